"""The call journal: what the app decided for each recent call, for the development tools.

Kept only when the app runs against the embedded fake PBX (``ivrhooks run`` / ``ivrhooks dev``),
never with a real PBX: the fake PBX reads it to tell ``ivrhooks call`` and the dev prompt which
handler answered, whether it was a fallback and why, and the user's line that failed. Bounded
and in memory; listeners hear of each record as it is made.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from ivrhooks.core.request import ActionRequest
from ivrhooks.core.runner import Outcome
from ivrhooks.core.types import FallbackCause, Kind

__all__ = ["CallJournal", "CallRecord"]

AnsweredBy = Literal["route", "fallback", "default"]


@dataclass(frozen=True, slots=True)
class CallRecord:
    """One answered action-URL request."""

    session_id: str | None
    receptionist: str
    caller: str
    digits: str
    route: str
    kind: Kind
    action: str
    destination: str | None
    answered_by: AnsweredBy
    """``route``: the route's handler decided; ``fallback``: the app's fallback; ``default``:
    the built-in ``repeat()`` (no fallback, or it failed too)."""
    cause: FallbackCause | None = None
    error: str | None = None
    where: str | None = None
    at: float = field(default_factory=time.time)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


_Entry = tuple[ActionRequest, Outcome, float]
"""What the journal keeps per answer: the request, its outcome, when (``time.time()``)."""


class CallJournal:
    """The last ``size`` answers, looked up by session id, with listeners.

    Recording is on the hot path of every request under the embedded PBX, so it only keeps the
    request and its outcome (no copy, no record built); a :class:`CallRecord` is made when one is
    read, or at once when something listens.
    """

    def __init__(self, size: int = 500) -> None:
        self.size = size
        self._entries: deque[_Entry] = deque(maxlen=size)
        self._by_session: dict[str, _Entry] = {}
        self._listeners: list[Callable[[CallRecord], None]] = []

    def record(self, request: ActionRequest, outcome: Outcome) -> None:
        entry = (request, outcome, time.time())
        self._entries.append(entry)  # the oldest falls out: maxlen
        session_id = request.session_id
        if session_id is not None:
            by_session = self._by_session
            by_session[session_id] = entry
            if len(by_session) > 2 * self.size:  # bounded: keep the calls still in the journal
                kept = {id(e) for e in self._entries}
                self._by_session = {k: e for k, e in by_session.items() if id(e) in kept}
        if self._listeners:
            made = _made(entry)
            for listener in list(self._listeners):
                listener(made)

    def latest(self, session_id: str) -> CallRecord | None:
        """The most recent record of the call ``session_id``."""
        entry = self._by_session.get(session_id)
        return _made(entry) if entry is not None else None

    def outcome_of(self, session_id: str) -> dict[str, Any] | None:
        """What the app decided last for the call ``session_id``, as JSON: what the embedded
        fake PBX adds to each call's result (``FakePBX(outcomes=...)``)."""
        record = self.latest(session_id)
        return record.as_json() if record is not None else None

    def recent(self, limit: int | None = None) -> list[CallRecord]:
        """Newest first."""
        entries = list(reversed(self._entries))
        return [_made(e) for e in (entries if limit is None else entries[:limit])]

    def listen(self, listener: Callable[[CallRecord], None]) -> Callable[[], None]:
        """Call ``listener`` with every new record; returns the function that stops it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None


def _made(entry: _Entry) -> CallRecord:
    request, outcome, at = entry
    return CallRecord(
        session_id=request.session_id,
        receptionist=request.to,
        caller=request.caller,
        digits=request.digits,
        route=request.route,
        kind=request.kind,
        action=outcome.decision.action,
        destination=outcome.decision.destination,
        answered_by=outcome.handler,
        cause=outcome.cause,
        error=outcome.error,
        where=outcome.where,
        at=at,
    )
