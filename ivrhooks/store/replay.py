"""The Digest replay window in the shared store: an ``nc`` accepted by one replica is refused by
every other (:class:`~ivrhooks.core.auth.replay.SharedReplayStore`)."""

from __future__ import annotations

from typing import ClassVar

from ivrhooks.core.auth.replay import WINDOW, ReplayOutcome
from ivrhooks.store.base import Store

__all__ = ["StoreReplay"]


class StoreReplay:
    """The replay window in Redis, atomic there (:meth:`~ivrhooks.store.base.Store.mark`)."""

    shared: ClassVar[bool] = True

    def __init__(self, store: Store, prefix: str, *, lifetime: float = 300.0) -> None:
        self.store = store
        self.prefix = prefix
        self.lifetime = lifetime

    async def check_and_set(
        self, nonce: str, username: str, nc: int, issued_at: float, now: float
    ) -> ReplayOutcome:
        # Kept as long as the nonce can still be used, plus a margin for clock skew.
        ttl = max(1.0, issued_at + self.lifetime - now) + 5.0
        seen = await self.store.mark(f"{self.prefix}{nonce}:{username}", nc, window=WINDOW, ttl=ttl)
        return "ok" if seen == "new" else "replay"
