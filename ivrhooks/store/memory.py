"""``MemoryStore``: the store in this process's memory. Correct for one process only.

No ``await`` happens between reading and writing a key, so every operation is atomic on the
event loop. Expired keys are dropped when touched, and the oldest are evicted past ``max_keys``
(bounded memory whatever the traffic).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from ivrhooks.store.base import Mark

__all__ = ["MemoryStore"]

_Value = bytes | int | tuple[int, int]  # bytes, a counter, or a mark window (high, bits)


class MemoryStore:
    """The per-process store."""

    kind = "memory"

    def __init__(
        self, *, max_keys: int = 100_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.max_keys = max_keys
        self._clock = clock
        self._data: OrderedDict[str, tuple[float, _Value]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._data)

    def _live(self, key: str) -> _Value | None:
        entry = self._data.get(key)
        if entry is None:
            return None
        if entry[0] <= self._clock():
            del self._data[key]
            return None
        return entry[1]

    def _set(self, key: str, value: _Value, ttl: float) -> None:
        self._data[key] = (self._clock() + ttl, value)
        self._data.move_to_end(key)
        while len(self._data) > self.max_keys:
            self._data.popitem(last=False)

    async def get(self, key: str) -> bytes | None:
        value = self._live(key)
        return value if isinstance(value, bytes) else None

    async def put(self, key: str, value: bytes, *, ttl: float) -> None:
        self._set(key, value, ttl)

    async def add(self, key: str, value: bytes, *, ttl: float) -> bool:
        if self._live(key) is not None:
            return False
        self._set(key, value, ttl)
        return True

    async def swap(self, key: str, old: bytes | None, new: bytes | None, *, ttl: float) -> bool:
        current = self._live(key)
        if current != old:
            return False
        if new is None:
            self._data.pop(key, None)
        else:
            self._set(key, new, ttl)
        return True

    async def incr(self, key: str, *, ttl: float) -> int:
        current = self._live(key)
        if isinstance(current, int):
            count = current + 1
            expires = self._data[key][0]
            self._data[key] = (expires, count)  # keeps the lifetime set at creation
            return count
        self._set(key, 1, ttl)
        return 1

    async def raise_to(self, key: str, value: int, *, ttl: float) -> int:
        current = self._live(key)
        highest = max(value, current) if isinstance(current, int) else value
        self._set(key, highest, ttl)
        return highest

    async def mark(self, key: str, number: int, *, window: int, ttl: float) -> Mark:
        current = self._live(key)
        if not isinstance(current, tuple):
            self._set(key, (number, 1), ttl)
            return "new"
        high, bits = current
        if number > high:
            shift = number - high
            bits = ((bits << shift) | 1) & ((1 << window) - 1) if shift < window else 1
            self._set(key, (number, bits), ttl)
            return "new"
        offset = high - number
        if offset >= window:
            return "old"
        if bits >> offset & 1:
            return "seen"
        self._set(key, (high, bits | 1 << offset), ttl)
        return "new"

    async def close(self) -> None:
        self._data.clear()
