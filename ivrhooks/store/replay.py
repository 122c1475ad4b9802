"""The Digest replay window in the shared store: an ``nc`` accepted by one replica is refused by
every other (:class:`~ivrhooks.core.auth.replay.SharedReplayStore`).

The shared window is only as good as the store's memory. Two things keep a response accepted
before from being accepted again when that memory fails:

- **This process's own window** (:class:`~ivrhooks.core.auth.replay.MemoryReplayStore`), asked
  first: what this process accepted it refuses again, whether Redis is frozen (its requests
  answered from this process's memory) or was emptied.
- **The store's epoch**: a key holding the time since which the store has remembered every
  accepted ``nc``. It is written when first needed and read after each accepted response; when
  it is missing or another than the one this process knew, the store lost its state (a
  restart without persistence, ``FLUSHALL``, an eviction), and a nonce issued before the new
  epoch began is ``stale``: the client gets ``stale=true`` and answers a fresh nonce at once
  (RFC 7616 §3.3), and whatever was accepted under the old nonces stays refused.

The epoch is read at startup (:meth:`StoreReplay.begin`), so a nonce issued by a process that
has started is never older than an epoch it could know of. Nonce issue times come from the
replicas' clocks, so those must agree (as they must for nonce lifetimes already).
"""

from __future__ import annotations

import secrets
from typing import ClassVar

from ivrhooks.core.auth.replay import WINDOW, MemoryReplayStore, ReplayOutcome
from ivrhooks.store.base import Store

__all__ = ["StoreReplay"]

#: How long the epoch key lives unread; each process renews it hourly while it serves.
EPOCH_TTL = 7 * 24 * 3600.0
_RENEW = 3600.0


class StoreReplay:
    """The replay window in Redis, atomic there (:meth:`~ivrhooks.store.base.Store.mark`),
    beside this process's own, under the store's epoch (see the module docstring)."""

    shared: ClassVar[bool] = True

    def __init__(self, store: Store, prefix: str, *, lifetime: float = 300.0) -> None:
        self.store = store
        self.prefix = prefix
        self.lifetime = lifetime
        self.local = MemoryReplayStore(lifetime=lifetime)
        """What this process accepted, whatever the shared store remembers."""
        self._key = f"{prefix}epoch"  # a mark key is prefix + 48-character nonce + ":" + user
        self._epoch: bytes | None = None  # the epoch value this process last saw
        self._renewed = float("-inf")
        self._since = float("-inf")  # nonces issued before this are stale

    async def begin(self, now: float) -> None:
        """Learn the store's epoch (starting one if there is none) before serving."""
        if self._epoch is None:
            await self._stale_before(now)

    async def check_and_set(
        self, nonce: str, username: str, nc: int, issued_at: float, now: float
    ) -> ReplayOutcome:
        outcome = self.local.check_and_set(nonce, username, nc, issued_at, now)
        if outcome != "ok":
            return outcome
        # Kept as long as the nonce can still be used, plus a margin for clock skew.
        ttl = max(1.0, issued_at + self.lifetime - now) + 5.0
        seen = await self.store.mark(f"{self.prefix}{nonce}:{username}", nc, window=WINDOW, ttl=ttl)
        if seen != "new":
            return "replay"
        # After the mark, not beside it: a store emptied before the mark answered "new" is then
        # seen to have lost its epoch too.
        return "stale" if issued_at < await self._stale_before(now) else "ok"

    def _failing(self) -> bool:
        """Whether the store's last answer came from this process's memory instead (a
        :class:`~ivrhooks.store.FallbackStore` while Redis fails)."""
        return bool(getattr(self.store, "degraded", False))

    async def _stale_before(self, now: float) -> float:
        """The time before which nonces are stale: when the store's epoch began, as far as
        this process knows. While the store fails nothing is learnt: the fallback memory's
        answers say nothing about the store's (this process's own window still refuses what
        it accepted; across replicas, replays are then refused per process only)."""
        if self._failing():
            return self._since
        value = await self.store.get(self._key)
        if value is None and not self._failing():
            value = await self._start(now)
        if value is None or self._failing():
            return self._since
        if value != self._epoch:
            self._epoch, self._renewed = value, now
            self._since = max(self._since, _began(value, now))
        elif now - self._renewed > _RENEW and await self.store.swap(
            self._key, value, value, ttl=EPOCH_TTL
        ):
            self._renewed = now
        return self._since

    async def _start(self, now: float) -> bytes | None:
        """A new epoch beginning ``now``; if another process started one first, that one."""
        # Milliseconds, truncated as a nonce's issue time is (nonce.py): a nonce issued in the
        # millisecond the epoch began is not older than it.
        value = f"{int(now * 1000)}:{secrets.token_hex(8)}".encode("ascii")
        if await self.store.add(self._key, value, ttl=EPOCH_TTL):
            return value
        return await self.store.get(self._key)


def _began(value: bytes, now: float) -> float:
    try:
        return int(value.partition(b":")[0]) / 1000.0
    except ValueError:
        return now  # not an epoch this code wrote: count it as beginning now
