"""What the inbox is: the values it hands out, the protocol both implementations keep, and the
small pieces they share (checking a batch, the retry policy, reporting, concurrency slots).

PortSIP delivers events "at least once", unordered and possibly buffered, retries anything but a
200 and advises receivers to "do as little as possible in the endpoint, ideally queue the event"
(PortSIP knowledge base, webhook-notifications/receiving-events-via-a-webhook.md). The inbox is
that queue: the endpoint calls :meth:`Inbox.accept` and answers; :meth:`Inbox.run` hands the
stored events to the app's handlers later, retrying failures, and keeps those that never
succeed as dead for an operator (``ivrhooks events dead``). It knows nothing of event types:
bodies are JSON objects, stored and handed out as they came.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from ivrhooks.core.backoff import backoff
from ivrhooks.errors import InvalidArgumentError

__all__ = [
    "KINDS",
    "DeadDelivery",
    "Delivery",
    "Handle",
    "Inbox",
    "Report",
    "ReportEvent",
    "Retries",
]

log = logging.getLogger("ivrhooks.events")

#: The two event webhooks a tenant has (registering-a-webhook.md): CDR and extension events.
KINDS = ("cdr", "extension")

#: What :class:`Inbox` reports, once per event: ``accepted`` (stored), ``duplicate`` (its digest
#: was seen within the dedup window: not stored), ``full`` (refused: the backlog is full),
#: ``unavailable`` (refused: the store failed), ``handled`` (the handler returned), ``retried``
#: (the handler raised; tried again later), ``dead`` (raised on its last attempt), ``claimed``
#: (taken over from a replica that stopped while handling it), ``dropped`` (the oldest dead
#: event, pushed out of the bounded dead list).
ReportEvent = Literal[
    "accepted",
    "duplicate",
    "full",
    "unavailable",
    "handled",
    "retried",
    "dead",
    "claimed",
    "dropped",
]
Report = Callable[[ReportEvent], None]

#: The longest error message kept with a dead event (a handler's message may be long).
MAX_ERROR = 500


@dataclass(frozen=True)
class Delivery:
    """One stored event, handed to the handler."""

    id: str
    """The inbox's id of this stored event (the same on every attempt)."""
    kind: str
    """``"cdr"`` or ``"extension"``: the endpoint it came in on."""
    body: dict[str, Any]
    """The event as the PBX sent it (a fresh copy on each attempt)."""
    attempt: int
    """1 on the first try; more after a failure, or after a replica stopped while handling it."""
    received: float
    """Epoch seconds it was accepted."""


@dataclass(frozen=True)
class DeadDelivery:
    """An event whose handler raised on every attempt, kept for an operator."""

    id: str
    kind: str
    body: dict[str, Any]
    attempts: int
    error_type: str
    """The last exception's class name."""
    error: str
    """The last exception's message (cut to 500 characters; it may hold a caller's number)."""
    received: float
    failed: float
    """Epoch seconds of the last failure."""

    @property
    def event_type(self) -> str | None:
        """The body's ``event_type`` (CDR events carry one, event-reference.md), if any."""
        value = self.body.get("event_type")
        return value if isinstance(value, str) else None


Handle = Callable[[Delivery], Awaitable[None]]


class Inbox(Protocol):
    """Stored events between the endpoint that accepts them and the handlers that process them.

    Delivery is at least once, as PortSIP's own: an event is handed out again after its handler
    raised, and after the process handling it stopped before the handler returned (with Redis,
    another replica takes it over after ``EventsConfig.claim_after``). Handlers should be
    idempotent; the digest dedup removes the PBX's resends, not these.
    """

    kind: str
    """``"memory"`` or ``"redis"``."""

    async def accept(
        self, kind: str, bodies: Sequence[dict[str, Any]], digests: Sequence[str]
    ) -> list[bool]:
        """Store each body unless its digest was seen within the dedup window: True stored,
        False a duplicate. All or nothing: raises InboxFullError (backlog full) or
        InboxUnavailableError (the store failed), storing nothing, so the caller answers 503
        and the PBX retries; returns only once stored (in memory, or in Redis)."""
        ...

    async def run(self, handle: Handle) -> None:
        """Hand out stored events to ``handle``, at most ``EventsConfig.concurrency`` at a time,
        until cancelled. ``handle`` raising: retried with backoff until
        ``EventsConfig.max_attempts``, then kept as dead."""
        ...

    async def dead(self, limit: int = 100) -> list[DeadDelivery]:
        """The dead events, the most recent first, at most ``limit``."""
        ...

    async def dead_dropped(self) -> int:
        """How many dead events were pushed out of the bounded dead list, oldest first."""
        ...

    async def retry_dead(self, ids: Sequence[str] | None = None) -> int:
        """Put dead events back in the queue with their attempts reset (``None``: all of them);
        returns how many were found."""
        ...

    async def backlog(self) -> int:
        """Events accepted and neither handled nor dead: waiting, in hand, or due for a retry."""
        ...

    async def close(self) -> None: ...


@dataclass(frozen=True)
class Retries:
    """How long a failed event waits before its next attempt: :func:`~ivrhooks.core.backoff`
    with "equal" jitter (a failing downstream needs a rest: never straight back), from
    ``base`` seconds doubling up to ``cap``. With the default 5 attempts the waits are about
    2, 4, 8 and 16 seconds."""

    base: float = 2.0
    cap: float = 300.0
    rand: Callable[[], float] = field(default=random.random, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not 0 < self.base <= self.cap:
            raise InvalidArgumentError("Retries: need 0 < base <= cap (seconds)")

    def delay(self, failures: int) -> float:
        """Seconds to wait after the ``failures``-th failed attempt."""
        return backoff(failures, base=self.base, cap=self.cap, rand=self.rand, jitter="equal")


def encode_batch(kind: str, bodies: Sequence[dict[str, Any]], digests: Sequence[str]) -> list[str]:
    """Each body as compact JSON text, after checking the call's arguments."""
    if kind not in KINDS:
        raise InvalidArgumentError(f"kind: {kind!r} is not one of {', '.join(KINDS)}")
    if len(bodies) != len(digests):
        raise InvalidArgumentError(
            f"digests: {len(digests)} given for {len(bodies)} bodies; one digest per body"
        )
    texts = []
    for i, (body, digest) in enumerate(zip(bodies, digests, strict=True)):
        if not isinstance(digest, str) or not 0 < len(digest) <= 256:
            raise InvalidArgumentError(f"digests[{i}]: a non-empty string, at most 256 long")
        if not isinstance(body, dict):
            raise InvalidArgumentError(f"bodies[{i}]: a JSON object (dict), not {type(body)}")
        try:
            texts.append(json.dumps(body, separators=(",", ":"), ensure_ascii=False))
        except (TypeError, ValueError) as exc:
            raise InvalidArgumentError(f"bodies[{i}]: not JSON: {exc}") from None
    return texts


def log_dead(kind: str, id_: str, attempts: int, error_type: str) -> None:
    """Say that an event died: never its body nor the error's message (callers' numbers)."""
    log.warning(
        "events: %s event %s is dead after %d attempts (last error %s); "
        "see it with `ivrhooks events dead` or retry it with `ivrhooks events retry`",
        kind,
        id_,
        attempts,
        error_type,
    )


def describe(error: BaseException) -> tuple[str, str]:
    """An exception as kept with a dead event: its class name and its message, cut."""
    return type(error).__name__, str(error)[:MAX_ERROR]


def reporter(report: Report | None) -> Report:
    """``report`` made safe to call from the delivery path: a failing hook is logged, once."""
    if report is None:
        return lambda event: None
    failed = False

    def safe(event: ReportEvent) -> None:
        nonlocal failed
        try:
            report(event)
        except Exception:
            if not failed:
                failed = True
                log.exception("events: the inbox's report hook raised (logged once)")

    return safe


class Slots:
    """At most ``size`` events in hand: :meth:`wait` for a free one, :meth:`take`, :meth:`give`."""

    def __init__(self, size: int) -> None:
        self._free = size
        self._freed = asyncio.Event()

    async def wait(self) -> int:
        """Wait until at least one slot is free; how many are."""
        while self._free <= 0:
            self._freed.clear()
            await self._freed.wait()
        return self._free

    def take(self, n: int = 1) -> None:
        self._free -= n

    def give(self, n: int = 1) -> None:
        self._free += n
        if n > 0:
            self._freed.set()
