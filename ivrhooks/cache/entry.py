"""One cached value and its times, and how it is written in the shared tier.

Times are wall-clock seconds (``time.time()``, or the cache's injected clock): the time a value
was loaded travels with it into the shared tier, so every replica judges its freshness from the
same instant, whichever replica loaded it. A value is *fresh* for ``ttl`` seconds after it was
loaded, then *stale* for ``stale`` more (served at once while it is refreshed); a miss
(``None``) is fresh for ``miss_ttl`` and never served stale (a record created meanwhile should
be found as soon as the miss expires).

In the shared tier an entry is the JSON object ``{"t": <loaded at>, "v": <value>}``: JSON, not
pickle, so no replica ever runs what another wrote.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from ivrhooks.cache.values import dumps

__all__ = ["Entry", "Policy"]

_NULL = "null"


@dataclass(frozen=True, slots=True)
class Policy:
    """How long entries of one cache live (seconds)."""

    ttl: float
    stale: float
    miss_ttl: float

    def entry(self, text: str, loaded_at: float) -> Entry:
        if text == _NULL:
            fresh = loaded_at + self.miss_ttl
            return Entry(text, loaded_at, fresh, fresh)
        fresh = loaded_at + self.ttl
        return Entry(text, loaded_at, fresh, fresh + self.stale)

    def lifetime(self, entry: Entry, now: float) -> float:
        """How long the shared tier keeps ``entry`` (the key's TTL): until it is no longer
        servable; at least a millisecond."""
        return max(0.001, entry.usable_until - now)

    def read(self, raw: bytes, now: float) -> Entry | None:
        """An entry from the shared tier's bytes; ``None`` when they are not one of ours (or
        the entry is no longer servable)."""
        try:
            stored = json.loads(raw)
            loaded_at = stored["t"]
            value = stored["v"]
        except (ValueError, TypeError, KeyError):
            return None
        if type(loaded_at) not in (int, float):
            return None
        # A replica whose clock runs ahead wrote it: it was loaded now, not in the future.
        entry = self.entry(dumps(value), min(float(loaded_at), now))
        return entry if entry.usable_until > now else None


@dataclass(frozen=True, slots=True)
class Entry:
    """A value's JSON text, when it was loaded, until when it is fresh and until when it may
    still be served (stale)."""

    text: str
    loaded_at: float
    fresh_until: float
    usable_until: float

    def shared(self) -> bytes:
        """The entry as the shared tier stores it."""
        return f'{{"t":{self.loaded_at!r},"v":{self.text}}}'.encode()
