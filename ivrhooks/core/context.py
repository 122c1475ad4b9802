"""What one request carries besides the PBX's fields: when its decisions are due, and the call's
session once a handler asked for it.

The server makes one :class:`CallContext` per request and hands it to the
:class:`~ivrhooks.core.types.ActionRequest`; the request's methods (``time_left()``,
``session()``) read it, and the runner saves the session it holds when a decision is made. The
request itself is only what the PBX sent: nothing on it changes while the handler runs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from ivrhooks.core.deadline import Deadline, Due
from ivrhooks.core.sessions import Session, SessionBroker
from ivrhooks.core.types import FallbackCause, Presence
from ivrhooks.errors import SessionUnavailableError

__all__ = ["DEFAULT_BUDGET", "CallContext", "Failure", "PresenceLookup"]

#: The budget of a request made outside a server (a handler called directly in a test): the
#: same as the server's default (``ServingConfig.deadline``), counted from when it is first read.
DEFAULT_BUDGET = 1.5


@dataclass(frozen=True, slots=True)
class Failure:
    """Why a fallback runs (``req.failure``)."""

    cause: FallbackCause
    """``timeout``, ``error``, ``invalid``, ``no_match``, ``receptionist`` or ``session``."""
    exception: str | None = None
    """The type name of the exception the handler raised (``"ConnectError"``); never its
    message, which may hold a caller number. ``None`` when none was raised."""


class PresenceLookup(Protocol):
    """Extensions' presence as the app last heard it (``ivrhooks.events.presence.PresenceView``):
    ``available``, ``busy``, ``ringing``, ``away``, ``dnd``, ``offline``, or ``None``."""

    async def get(self, extension: str) -> Presence | None: ...


#: What the presence reads of one request may take together, inside the handler's time. A read
#: takes a fraction of a millisecond; a store that hangs costs its timeout on every read, so a
#: handler asking after eight extensions would spend its whole budget waiting: once this is
#: spent, the request's further reads answer ``None`` at once.
PRESENCE_WITHIN = 0.25


class CallContext:
    """One request's deadline and session (made by the server; a test may make its own)."""

    __slots__ = ("_due", "_loaded", "_presence_spent", "failure", "presence_view", "sessions")

    def __init__(
        self,
        due: Due | None = None,
        sessions: SessionBroker | None = None,
        presence: PresenceLookup | None = None,
    ) -> None:
        self._due = due
        self.sessions = sessions
        """Where the call's session is kept; ``None`` outside a server."""
        self.presence_view = presence
        """Extensions' presence from the PBX's extension events; ``None`` outside a server."""
        self._loaded: Session | None = None
        self._presence_spent = 0.0
        self.failure: Failure | None = None
        """Why the fallback runs, set by the runner before it does (``None`` in a handler)."""

    @property
    def due(self) -> Due:
        """When this request's decisions are due (a request made outside a server starts its
        default budget the first time this is read)."""
        if self._due is None:
            self._due = Deadline.of(DEFAULT_BUDGET).start(asyncio.get_running_loop().time())
        return self._due

    def time_left(self) -> float:
        """Seconds the handler has left: until its own slice of the budget ends, not the
        fallback's reserve after it."""
        return max(0.0, self.due.handler - asyncio.get_running_loop().time())

    async def session(self, session_id: str | None, route: str) -> Session:
        """The call's session, loaded once per request."""
        if self._loaded is None:
            if not session_id:
                raise SessionUnavailableError(
                    "this request has no session_id, so it has no session: sessions need a "
                    "PortSIP PBX that sends session_id with action-URL requests (builds from "
                    "late 2025 on)"
                )
            if self.sessions is None:
                raise SessionUnavailableError("this request was not made by an ivrhooks server")
            self._loaded = await self.sessions.load(session_id, route)
        return self._loaded

    async def presence(self, extension: str) -> Presence | None:
        """The extension's presence, or ``None`` when unknown, stale, or not read in time: a
        store that fails or hangs makes it unknown, never a failed call. The request's reads
        share :data:`PRESENCE_WITHIN`."""
        if self.presence_view is None:
            return None
        within = min(PRESENCE_WITHIN - self._presence_spent, self.time_left())
        if within <= 0:
            return None
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            async with asyncio.timeout(within):
                return await self.presence_view.get(extension)
        except TimeoutError:
            return None
        finally:
            self._presence_spent += loop.time() - started

    async def first_available(self, extensions: Iterable[str]) -> str | None:
        """The first of ``extensions`` whose presence is ``"available"``; ``None`` if none is
        (or none is known)."""
        for extension in extensions:
            if await self.presence(extension) == "available":
                return extension
        return None

    def take_session(self) -> Session | None:
        """The session a handler loaded, if any, and forget it: a decision saves it, a failure
        drops it (the fallback then reads the call's session afresh)."""
        loaded, self._loaded = self._loaded, None
        return loaded
