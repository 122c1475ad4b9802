"""Fast unit tests: the app run in process, with no sockets, no auth and no fake PBX.

::

    async with local(app, resources={"crm": FakeCRM()}) as ivr:
        r = await ivr.dial(to="8000", caller="101", digits="1")
        assert (r.action, r.destination, r.route, r.cause) == ("call", "2001", "sales", None)

        flow = await ivr.call("8000", "101", ["31234", "2468"])  # across receptionists
        assert flow.last.destination == "2001"

A dial goes through the same code as a request the server authenticated: the route the PBX
would fire for the input (the app's own route table), the request's deadline, the middleware,
the handler with its resources, the route's fallback, the call's session. What is left out is
only the HTTP (and so the credentials check): use :func:`ivrhooks.testing.running` for that.

A call is followed as the fake PBX follows it (:mod:`ivrhooks.fakepbx.flow`): it arrives at a
receptionist (a caller route may answer first), each group of ``digits`` is keyed at the next
prompt, ``repeat()`` prompts again at the same receptionist, a ``call`` to another receptionist
of the app goes on there under the same session id, and anything else ends it.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ivrhooks.app import IVRHooks
from ivrhooks.core.decisions import Decision
from ivrhooks.core.types import FallbackCause, Kind
from ivrhooks.server.app import Server
from ivrhooks.server.endpoint import ServedRoute

__all__ = ["Local", "LocalCall", "LocalResult", "local"]

#: A forward loop between receptionists ends here, as the fake PBX's does.
MAX_HOPS = 32


@dataclass(frozen=True)
class LocalResult:
    """One request answered in process."""

    receptionist: str
    kind: Kind
    digits: str
    session_id: str
    route: str | None
    """The route that took the input; ``None``: no route of the app takes it (the PBX's
    receptionist would handle it with its own menu)."""
    decision: Decision | None = None
    cause: FallbackCause | None = None
    """Why a fallback answered; ``None`` when the route itself did (or no route took it)."""
    answered_by: str | None = None
    """``route``, ``fallback`` or ``default`` (the built-in ``repeat()``)."""
    error: str | None = None
    where: str | None = None
    """Where in your code a failing handler failed (``app.py:14``)."""

    @property
    def action(self) -> str | None:
        return self.decision.action if self.decision is not None else None

    @property
    def destination(self) -> str | None:
        return self.decision.destination if self.decision is not None else None


@dataclass(frozen=True)
class LocalCall:
    """Every request a call made, in order, under one session id."""

    session_id: str
    hops: list[LocalResult] = field(default_factory=list)
    unused: list[str] = field(default_factory=list)
    """Digits left when the call left the app's hands."""

    @property
    def last(self) -> LocalResult | None:
        return self.hops[-1] if self.hops else None


class Local:
    """An app running in process (see :func:`local`)."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self._manifest = server.runtime.manifest
        self._served: dict[str, ServedRoute] = {s.route.name: s for s in server.routes.values()}

    async def dial(
        self,
        to: str,
        caller: str,
        digits: str = "",
        *,
        caller_name: str = "",
        session_id: str | None = None,
    ) -> LocalResult:
        """One request, as the PBX sends it: DTMF ``digits`` keyed at receptionist ``to``, or
        with none the caller arriving there (a caller route)."""
        kind: Kind = "DTMF" if digits else "CALLER"
        return await self._ask(to, caller, kind, digits, caller_name, session_id or _new_id())

    async def call(
        self,
        to: str,
        caller: str,
        digits: Sequence[str] = (),
        *,
        caller_name: str = "",
        session_id: str | None = None,
    ) -> LocalCall:
        """A whole call from ``caller`` to receptionist ``to``, keying ``digits`` one group per
        prompt, followed across the app's receptionists under one session id."""
        flow = LocalCall(session_id or _new_id())
        pending = list(digits)
        here, arrived = to, True
        receptionists = set(self._manifest.receptionists)
        while len(flow.hops) < MAX_HOPS:
            result = None
            if arrived:  # a caller route is asked when the call arrives, not on a replay
                result = await self._ask(here, caller, "CALLER", "", caller_name, flow.session_id)
                if result.route is None:
                    result = None
            if result is None:
                if not pending:
                    break  # the caller keys nothing more: the prompt waits, the call ends
                keyed = pending.pop(0)
                result = await self._ask(here, caller, "DTMF", keyed, caller_name, flow.session_id)
            flow.hops.append(result)
            if result.route is None or result.decision is None:
                break  # the receptionist's own menu takes it
            if result.action == "repeat":
                arrived = False
                continue
            if result.action != "call" or result.destination not in receptionists:
                break  # hangup, or forwarded out of the app's receptionists
            here, arrived = str(result.destination), True
        flow.unused.extend(pending)
        return flow

    async def _ask(
        self, to: str, caller: str, kind: Kind, digits: str, caller_name: str, session_id: str
    ) -> LocalResult:
        found = self._manifest.table.lookup(to, kind, digits if kind == "DTMF" else caller)
        if found is None:
            return LocalResult(to, kind, digits, session_id, route=None)
        served = self._served[found[0].name]
        fields = {
            "from": caller,
            "to": to,
            "input": digits,
            "from_name": caller_name,
            "account_name": f"Receptionist {to}",
            "session_id": session_id,
        }
        endpoint = self.server.endpoint
        due = endpoint.deadline.start(asyncio.get_running_loop().time())
        outcome = await endpoint.answer(served, endpoint.request(served, fields, "POST", due))
        return LocalResult(
            to,
            kind,
            digits,
            session_id,
            route=served.route.name,
            decision=outcome.decision,
            cause=outcome.cause,
            answered_by=outcome.handler,
            error=outcome.error,
            where=outcome.where,
        )


def _new_id() -> str:
    return str(secrets.randbits(60))


@contextlib.asynccontextmanager
async def local(
    app: IVRHooks,
    *,
    resources: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> AsyncIterator[Local]:
    """Run ``app`` in process for fast unit tests (no sockets, no auth, no fake PBX).

    ``resources`` stand in for the app's declared resources by name (those are not set up; the
    others are). ``environ`` is laid over the code's configuration as ``IVRHOOKS_*`` variables
    (default: none, whatever the process environment holds). The app registers nowhere.
    """
    config = app.configure(environ if environ is not None else {})
    config = config.replace(
        pbx=None,
        embedded_pbx=False,
        registration=config.registration.replace(enabled=False),
    )
    server = app.build(config, services=(), resources=resources)
    try:
        async with server.running(announce=False):  # no registration here, said or not
            yield Local(server)
    finally:
        server.endpoint.restart_executor()
