"""The call journal: what the app decided for each recent call, for the development tools.

Kept only when the app runs against the embedded fake PBX (``ivrhooks run`` / ``ivrhooks dev``),
never with a real PBX: the fake PBX reads it to tell ``ivrhooks call`` and the dev prompt which
handler answered, whether it was a fallback and why, and the user's line that failed. Bounded
and in memory; listeners hear of each record as it is made.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from ivrhooks.types import FallbackCause, Kind

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


class CallJournal:
    """The last ``size`` records, looked up by session id, with listeners."""

    def __init__(self, size: int = 500) -> None:
        self.size = size
        self._records: OrderedDict[int, CallRecord] = OrderedDict()
        self._by_session: dict[str, int] = {}
        self._next = 0
        self._listeners: list[Callable[[CallRecord], None]] = []

    def record(self, record: CallRecord) -> None:
        key, self._next = self._next, self._next + 1
        self._records[key] = record
        if record.session_id is not None:
            self._by_session[record.session_id] = key
        while len(self._records) > self.size:
            old_key, old = self._records.popitem(last=False)
            if old.session_id is not None and self._by_session.get(old.session_id) == old_key:
                del self._by_session[old.session_id]
        for listener in list(self._listeners):
            listener(record)

    def latest(self, session_id: str) -> CallRecord | None:
        """The most recent record of the call ``session_id``."""
        key = self._by_session.get(session_id)
        return self._records.get(key) if key is not None else None

    def recent(self, limit: int | None = None) -> list[CallRecord]:
        """Newest first."""
        records = list(reversed(self._records.values()))
        return records if limit is None else records[:limit]

    def listen(self, listener: Callable[[CallRecord], None]) -> Callable[[], None]:
        """Call ``listener`` with every new record; returns the function that stops it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None
