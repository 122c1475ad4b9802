"""The shared tier: a cache's entries in the app's store, read by every replica.

With ``IVRHOOKS_REDIS_URL`` the app's store is Redis behind a
:class:`~ivrhooks.store.resilient.FallbackStore`: an operation Redis fails or does not answer
within the store's timeout (``StoreConfig.timeout``, a quarter second) is answered from the
process's memory, so a Redis outage degrades the cache to its process tier and never raises
into a handler. This tier adds a backstop a quarter second past that timeout (``_MARGIN``), so
that a read never holds a caller long whatever the store does (a pool's wait for a connection,
then a slow reply, would add up to twice its timeout); the store's own timeout fires first in
the plain case, so the store still counts, logs and falls back as for any
operation. Writes happen after the callers have their answer.

Keys are ``ivrhooks:<app id>:cache:<name>:<key>``; a key longer than 64 characters (or one that
starts with ``#``) is replaced by ``#`` and its SHA-256, so a key name stays short whatever the
caller's key. A key lives in Redis as long as its value may be served: ``ttl + stale`` after
it was loaded (``miss_ttl`` for a miss).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from typing import TYPE_CHECKING

from ivrhooks.cache.entry import Entry, Policy
from ivrhooks.errors import StoreError

if TYPE_CHECKING:
    from ivrhooks.store.base import Store

__all__ = ["SharedTier", "store_key"]

_LONGEST = 64
_MARGIN = 0.25  # seconds past the store's timeout: its own timeout fires first, even on a busy loop


def store_key(prefix: str, key: str) -> str:
    """``prefix`` + ``key``, the key hashed when it is long (or could pass for a hashed one)."""
    if len(key) > _LONGEST or key.startswith("#"):
        key = "#" + hashlib.sha256(key.encode()).hexdigest()
    return prefix + key


class SharedTier:
    """One cache's entries in ``store`` under ``prefix``; every failure is a miss."""

    __slots__ = ("_clock", "_policy", "_store", "_timeout", "prefix")

    def __init__(
        self,
        store: Store,
        prefix: str,
        *,
        policy: Policy,
        timeout: float,
        clock: Callable[[], float],
    ) -> None:
        self._store = store
        self.prefix = prefix
        self._policy = policy
        self._timeout = timeout + _MARGIN
        self._clock = clock

    async def get(self, key: str) -> Entry | None:
        """The servable entry at ``key``, or ``None`` (absent, unreadable, the store failed or
        took longer than its timeout)."""
        try:
            async with asyncio.timeout(self._timeout):
                raw = await self._store.get(store_key(self.prefix, key))
        except (StoreError, TimeoutError):
            return None
        return None if raw is None else self._policy.read(raw, self._clock())

    async def put(self, key: str, entry: Entry) -> None:
        """Store ``entry`` for as long as it may be served; a failure is left unsaid here (the
        store reports its own)."""
        ttl = self._policy.lifetime(entry, self._clock())
        try:
            async with asyncio.timeout(self._timeout):
                await self._store.put(store_key(self.prefix, key), entry.shared(), ttl=ttl)
        except (StoreError, TimeoutError):
            pass

    async def delete(self, key: str) -> None:
        """Remove ``key`` (the store has no plain delete: compare-and-delete what it holds)."""
        name = store_key(self.prefix, key)
        try:
            async with asyncio.timeout(self._timeout * 2):  # two operations
                current = await self._store.get(name)
                if current is not None:
                    await self._store.swap(name, current, None, ttl=1.0)
        except (StoreError, TimeoutError):
            pass
