"""The process tier: this process's copy of a cache's entries, bounded, least recently used
first out.

A hit here costs a dict lookup and no I/O: with a shared tier behind it, a value fresh in this
process is served without a Redis round trip. Every operation runs on the event loop without
an ``await`` in between, so none needs a lock.
"""

from __future__ import annotations

from collections import OrderedDict

from ivrhooks.cache.entry import Entry

__all__ = ["LocalTier"]


class LocalTier:
    """At most ``maxsize`` entries; the least recently used goes first."""

    __slots__ = ("_entries", "maxsize")

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._entries: OrderedDict[str, Entry] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: str) -> bool:
        return key in self._entries

    def get(self, key: str) -> Entry | None:
        entry = self._entries.get(key)
        if entry is not None:
            self._entries.move_to_end(key)
        return entry

    def put(self, key: str, entry: Entry) -> None:
        entries = self._entries
        entries[key] = entry
        entries.move_to_end(key)
        while len(entries) > self.maxsize:
            entries.popitem(last=False)

    def drop(self, key: str) -> None:
        self._entries.pop(key, None)

    def clear(self) -> None:
        self._entries.clear()
