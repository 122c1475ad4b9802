"""The throttle's counts shared by every replica through the store (``IVRHOOKS_REDIS_URL``).

With N replicas each counting alone, a guesser would get N times the budget. Each failure is
also counted in the store, per throttle key, in a window of ``window`` seconds from the key's
first failure there; once the shared count reaches the limit, every replica that hears of it
throttles the key as if it had counted the failures itself. A success on a guessable route is
recorded there too, so the key stays known-good on the replicas that did not see it.

Nothing here is on the request path: the store is told after the answer is decided (a task
per failure, bounded), and what it says takes effect from the next request. A failing store
changes nothing but the sharing: each replica keeps throttling on its own counts.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Coroutine
from typing import Any

from ivrhooks.core.auth.throttle import Key, Throttle
from ivrhooks.errors import StoreError
from ivrhooks.store.base import Store

__all__ = ["SharedCounts"]

log = logging.getLogger("ivrhooks.auth")

#: Store round trips in flight at once: a flood of failures must not become a flood of tasks.
MAX_PENDING = 256


def _digest(key: Key) -> str:
    # The claimed username is attacker-chosen text: hash it into a fixed-size key.
    source, route, claimed = key
    return hashlib.sha256(f"{source}\x00{route}\x00{claimed}".encode()).hexdigest()[:32]


class SharedCounts:
    """Tells the store about a throttle's failures and successes, and the throttle about the
    other replicas' (installed with :meth:`Throttle.share`)."""

    def __init__(self, store: Store, prefix: str) -> None:
        self.store = store
        self.prefix = prefix
        self._pending: set[asyncio.Task[None]] = set()

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        if len(self._pending) >= MAX_PENDING:
            work.close()
            return  # counted here only, this once: the local count still throttles
        try:
            task = asyncio.get_running_loop().create_task(work)
        except RuntimeError:  # no running loop (a sync caller, e.g. a test): nothing to share
            work.close()
            return
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    def failed(self, throttle: Throttle, key: Key) -> None:
        self._spawn(self._failed(throttle, key))

    def succeeded(self, throttle: Throttle, key: Key) -> None:
        self._spawn(self._succeeded(throttle, key))

    async def _failed(self, throttle: Throttle, key: Key) -> None:
        name = _digest(key)
        try:
            count = await self.store.incr(self.prefix + "fail:" + name, ttl=throttle.window)
            if count < throttle.max_failures:
                return
            known = await self.store.get(self.prefix + "good:" + name)
        except StoreError:
            return
        throttle.throttle_key(key)  # the replicas together reached the limit
        if known is not None:
            throttle.mark_known_good(key)  # another replica saw the PBX succeed with it

    async def _succeeded(self, throttle: Throttle, key: Key) -> None:
        try:
            await self.store.put(
                self.prefix + "good:" + _digest(key), b"1", ttl=throttle.known_good_for
            )
        except StoreError:
            return

    async def drain(self) -> None:
        """Wait for what is in flight (tests, shutdown)."""
        while self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)
