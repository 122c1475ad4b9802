"""The store seam: the few atomic operations ivrhooks keeps across requests and replicas.

Digest replay windows, the failure throttle, the registrar lease, generations and call sessions
are all written against :class:`Store`. :class:`~ivrhooks.store.memory.MemoryStore` keeps them in
this process (one process only); :class:`~ivrhooks.store.redis.RedisStore` in Redis, shared by
every replica. Every operation is atomic on its own; values are bytes, keys are strings, and
every key a caller writes has a lifetime (``ttl``, seconds) so nothing outlives its use.
"""

from __future__ import annotations

from typing import Literal, Protocol

from ivrhooks.errors import StoreError

__all__ = ["Mark", "Store", "StoreError"]

Mark = Literal["new", "seen", "old"]
"""What :meth:`Store.mark` found: a number not seen yet (now recorded), one seen before, or one
older than the window (treated as seen: it can no longer be told apart)."""


class Store(Protocol):
    """What ivrhooks needs of a store; implementations raise only :class:`StoreError`."""

    kind: str
    """``"memory"`` or ``"redis"``: for logs and metrics."""

    async def get(self, key: str) -> bytes | None:
        """The value, or ``None`` when absent or expired."""
        ...

    async def put(self, key: str, value: bytes, *, ttl: float) -> None:
        """Set ``key`` to ``value`` for ``ttl`` seconds."""
        ...

    async def add(self, key: str, value: bytes, *, ttl: float) -> bool:
        """Set ``key`` only if it is absent (``SET NX``); whether it was set."""
        ...

    async def swap(self, key: str, old: bytes | None, new: bytes | None, *, ttl: float) -> bool:
        """Compare and set: when ``key`` holds ``old`` (``None``: is absent), make it ``new``
        (``None``: delete it) for ``ttl`` seconds; whether it did."""
        ...

    async def incr(self, key: str, *, ttl: float) -> int:
        """Add one to the counter at ``key`` (created at 0 with lifetime ``ttl``); the new count."""
        ...

    async def raise_to(self, key: str, value: int, *, ttl: float) -> int:
        """Make the number at ``key`` at least ``value``; the number it holds afterwards."""
        ...

    async def mark(self, key: str, number: int, *, window: int, ttl: float) -> Mark:
        """Record ``number`` in a sliding window of the ``window`` highest numbers at ``key``
        (a Digest nonce's counts): ``"new"`` the first time, ``"seen"`` after that."""
        ...

    async def close(self) -> None: ...
