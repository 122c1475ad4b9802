"""Replay: captured requests (:mod:`ivrhooks.observe.capture`) answered again by a built server,
each compared with the answer it got when it was captured.

``ivrhooks replay FILE APP`` and :func:`ivrhooks.testing.replay` are thin over this module.
Each request goes through what ``ivrhooks.testing.local`` runs (``ActionEndpoint.answer``: the
route's mask and receptionists, the middleware, the handler under its deadline, the fallback,
the call's session), with no HTTP and so no credentials check.

**Which route.** A request is asked of the route the app's route table picks *now* for its
receptionist, kind and input: after the new code registers, that is the action URL the PBX
fires. When the table picks another route than the one captured, the request is ``changed``
(route before and after); when it picks none, the receptionist's own menu would take the call,
also ``changed``. The input must be known for that: DTMF digits are (unless captured masked:
then the request is ``skipped``); a caller's number is only when captured in full
(``IVRHOOKS_CAPTURE_CALLERS=true``). Without it, a caller request is asked of the captured
route, if the app still has it, its caller mask not checked (the handler sees the masked
number), and counted as not re-checked.

**In order, one session per call.** Requests replay one at a time in the file's order, each
under its captured ``session_id``, in a fresh in-memory store: a multi-step call (an account
number, then its PIN) finds in its session what its earlier steps wrote.

**The clock.** A handler that reads the time decides differently on replay unless it reads a
clock replay can set: ``pin`` (:func:`pin_clock`) is entered around each request with the time
the request arrived.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from ivrhooks.conf.capture import CaptureConfig
from ivrhooks.conf.config import Config
from ivrhooks.core.runner import decide
from ivrhooks.core.types import FallbackCause, Kind
from ivrhooks.errors import InboundError, InvalidArgumentError
from ivrhooks.observe.captured import Captured, CaptureLines, rewrite_capture
from ivrhooks.server.app import Server

__all__ = [
    "ReplayDecision",
    "ReplayDifference",
    "Status",
    "accept",
    "pin_clock",
    "replay_config",
    "replay_server",
]

Status = Literal["same", "changed", "now a fallback", "skipped"]
Pin = Callable[[datetime], AbstractContextManager[None]]


@dataclass(frozen=True)
class ReplayDecision:
    """What answered a request: the route, the decision, why a fallback answered."""

    route: str | None
    """``None``: no route of the app takes the input (the receptionist's own menu does)."""
    action: str | None
    destination: str | None
    cause: str | None
    """Why the fallback answered (``timeout``, ``error``, ...); ``None``: the route did."""
    answered_by: str | None = field(default=None, compare=False)
    """``route``, ``fallback`` or ``default`` (the built-in ``repeat()``); not compared: the
    cause says it."""

    def __str__(self) -> str:
        if self.route is None:
            return "no route (the receptionist's own menu)"
        decision = f"{self.action} {self.destination}" if self.destination else str(self.action)
        if self.cause is not None:
            return f"{self.route} (fallback: {self.cause}): {decision}"
        return f"{self.route}: {decision}"


@dataclass(frozen=True)
class ReplayDifference:
    """One captured request replayed: what it got then, what it gets now."""

    line: int
    """Its line in the capture file."""
    time: datetime
    """When it was captured (what a pinned clock reads)."""
    session_id: str | None
    receptionist: str
    kind: Kind
    digits: str
    status: Status
    """``same``, ``changed``, ``now a fallback`` (the route answered then, a fallback now), or
    ``skipped`` (it cannot be rebuilt: ``note`` says why)."""
    before: ReplayDecision
    after: ReplayDecision | None
    """``None`` when skipped."""
    note: str | None = None
    """What replay could not check, or what failed (``ZeroDivisionError: ... at app.py:14``)."""
    route_checked: bool = True
    """Whether the route was picked by the route table now; ``False``: a caller request captured
    masked, asked of the route it was captured on."""

    @property
    def changed(self) -> bool:
        return self.status in ("changed", "now a fallback")


def replay_config(config: Config) -> Config:
    """``config`` for a replay: no PBX, no registration, no capture, and sessions in this
    process's memory (never the deployment's Redis, whatever ``IVRHOOKS_REDIS_URL`` says)."""
    return config.replace(
        pbx=None,
        embedded_pbx=False,
        registration=config.registration.replace(enabled=False),
        store=config.store.replace(redis_url=None),
        capture=CaptureConfig(),
    )


def pin_clock(spec: str) -> Pin:
    """``module:attr``: a zero-argument callable of that module, returning an aware
    ``datetime``, that the app's handlers read the time from (``examples/business_hours.py``
    has ``clock``). Around each request it is replaced by one returning the time the request
    was captured, and put back after."""
    module_name, _, attr = spec.rpartition(":")
    if not module_name or not attr:
        raise InvalidArgumentError(f"clock {spec!r}: name it as module:attribute")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise InvalidArgumentError(f"clock {spec!r}: cannot import {module_name} ({exc})") from None
    original = getattr(module, attr, None)
    if not callable(original):
        raise InvalidArgumentError(
            f"clock {spec!r}: {module_name} has no callable {attr!r} to replace"
        )

    @contextlib.contextmanager
    def pinned(when: datetime) -> Iterator[None]:
        setattr(module, attr, lambda: when)
        try:
            yield
        finally:
            setattr(module, attr, original)

    return pinned


async def replay_server(
    server: Server, capture: CaptureLines, *, pin: Pin | None = None
) -> list[ReplayDifference]:
    """Every request of ``capture`` answered by ``server`` (built with :func:`replay_config`,
    not yet running: its resources are set up here, then torn down)."""
    try:
        async with server.running(announce=False):
            return [await _replay(server, captured, pin) for captured in capture.requests]
    finally:
        server.endpoint.restart_executor()


async def _replay(server: Server, captured: Captured, pin: Pin | None) -> ReplayDifference:
    before = ReplayDecision(
        captured.route,
        captured.action,
        captured.destination,
        captured.cause,
        captured.answered_by,
    )
    checked = captured.kind == "DTMF" or "from" not in captured.masked

    def result(
        status: Status, after: ReplayDecision | None, note: str | None = None
    ) -> ReplayDifference:
        return ReplayDifference(
            captured.line,
            captured.time,
            captured.session_id,
            captured.receptionist,
            captured.kind,
            captured.digits,
            status,
            before,
            after,
            note,
            route_checked=checked,
        )

    if captured.kind == "DTMF" and "input" in captured.masked and captured.digits:
        return result("skipped", None, "the digits were captured masked (IVRHOOKS_CAPTURE_DIGITS)")
    served = {s.route.name: s for s in server.routes.values()}
    note = None
    if checked:
        value = captured.digits if captured.kind == "DTMF" else captured.fields.get("from", "")
        to = captured.fields.get("to", captured.receptionist)
        found = server.runtime.manifest.table.lookup(to, captured.kind, value)
        route = found[0].name if found is not None else None
    else:
        route = captured.route if captured.route in served else None
        note = "the caller was captured masked: the route was not re-checked"
    if route is None:
        after = ReplayDecision(None, None, None, None)
        return result(_compare(before, after), after, note)
    target = served[route]
    endpoint = server.endpoint
    due = endpoint.deadline.start(asyncio.get_running_loop().time())
    try:
        request = endpoint.request(target, dict(captured.fields), captured.method, due)
    except InboundError as exc:
        return result("skipped", None, str(exc))
    with pin(captured.time) if pin is not None else contextlib.nullcontext():
        if checked:
            outcome = await endpoint.answer(target, request)
        else:
            # A masked number cannot match the route's caller mask: run the route's handler as
            # answer() would after the mask said yes (the receptionist is still checked).
            cause: FallbackCause | None = None if request.to in target.on else "receptionist"
            outcome = await decide(
                None if cause else target.handler,
                target.fallback,
                request,
                executor=endpoint.executor,
                cause=cause,
                trace=endpoint.trace,
            )
    decision = outcome.decision
    after = ReplayDecision(
        route, decision.action, decision.destination, outcome.cause, outcome.handler
    )
    if outcome.error is not None:
        where = f" at {outcome.where}" if outcome.where else ""
        note = f"{outcome.error}{where}"
    return result(_compare(before, after), after, note)


def _compare(before: ReplayDecision, after: ReplayDecision) -> Status:
    if before == after:
        return "same"
    if before.cause is None and before.route is not None and after.cause is not None:
        return "now a fallback"
    return "changed"


def accept(path: str, capture: CaptureLines, results: Sequence[ReplayDifference]) -> int:
    """Write each changed request's new answer into the capture at ``path`` as the one to
    expect (a new file renamed over the old); returns how many lines changed."""
    by_line = {c.line: c for c in capture.requests}
    changed = []
    for found in results:
        if found.changed and found.after is not None:
            after = found.after
            record = by_line[found.line].answered(
                route=after.route,
                action=after.action,
                destination=after.destination,
                answered_by=after.answered_by,
                cause=after.cause,
            )
            changed.append((found.line, record))
    if changed:
        rewrite_capture(path, capture.lines, changed)
    return len(changed)
