"""``FallbackStore``: a shared store that never stops calls being answered.

Every operation goes to the primary (Redis). When it fails (unreachable, too slow), the same
operation is answered from a per-process :class:`~ivrhooks.store.memory.MemoryStore` for that
request: a Digest replay is then refused per process only, the throttle counts per process, for
as long as the episode lasts. Each fallback is counted (``on_fallback``); the episode is logged
once when it starts and once when the primary answers again. Every primary operation is timed
and reported with its outcome (``on_op(op, seconds, ok)``). Coordination that must not race
(the registrar lease) uses :attr:`primary` directly and treats a failure as "not the holder".
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from ivrhooks.store.base import Mark, Store, StoreError
from ivrhooks.store.memory import MemoryStore

__all__ = ["FallbackStore"]

log = logging.getLogger("ivrhooks.store")

T = TypeVar("T")


class FallbackStore:
    """``primary``, or this process's memory while the primary fails."""

    def __init__(
        self,
        primary: Store,
        *,
        fallback: MemoryStore | None = None,
        on_fallback: Callable[[str], None] | None = None,
        on_error: Callable[[str], None] | None = None,
        on_op: Callable[[str, float, bool], None] | None = None,
    ) -> None:
        self.primary = primary
        self.fallback = fallback if fallback is not None else MemoryStore()
        self.kind = primary.kind
        self._on_fallback = on_fallback
        self._on_error = on_error
        self._on_op = on_op
        self.degraded = False
        """Whether the last operation was answered from memory (an episode is under way)."""

    async def _do(
        self, op: str, primary: Callable[[], Awaitable[T]], fallback: Callable[[], Awaitable[T]]
    ) -> T:
        on_op = self._on_op
        started = time.perf_counter() if on_op is not None else 0.0
        try:
            result = await primary()
        except StoreError as exc:
            if on_op is not None:
                on_op(op, time.perf_counter() - started, False)
            if self._on_error is not None:
                self._on_error(op)
            if not self.degraded:
                self.degraded = True
                log.error(
                    "the %s store failed (%s): using this process's memory until it answers again",
                    self.kind,
                    exc,
                )
            if self._on_fallback is not None:
                self._on_fallback(op)
            return await fallback()
        if on_op is not None:
            on_op(op, time.perf_counter() - started, True)
        if self.degraded:
            self.degraded = False
            log.warning("the %s store answers again: shared state resumes", self.kind)
        return result

    async def get(self, key: str) -> bytes | None:
        return await self._do("get", lambda: self.primary.get(key), lambda: self.fallback.get(key))

    async def put(self, key: str, value: bytes, *, ttl: float) -> None:
        await self._do(
            "put",
            lambda: self.primary.put(key, value, ttl=ttl),
            lambda: self.fallback.put(key, value, ttl=ttl),
        )

    async def add(self, key: str, value: bytes, *, ttl: float) -> bool:
        return await self._do(
            "add",
            lambda: self.primary.add(key, value, ttl=ttl),
            lambda: self.fallback.add(key, value, ttl=ttl),
        )

    async def swap(self, key: str, old: bytes | None, new: bytes | None, *, ttl: float) -> bool:
        return await self._do(
            "swap",
            lambda: self.primary.swap(key, old, new, ttl=ttl),
            lambda: self.fallback.swap(key, old, new, ttl=ttl),
        )

    async def incr(self, key: str, *, ttl: float) -> int:
        return await self._do(
            "incr",
            lambda: self.primary.incr(key, ttl=ttl),
            lambda: self.fallback.incr(key, ttl=ttl),
        )

    async def raise_to(self, key: str, value: int, *, ttl: float) -> int:
        return await self._do(
            "raise_to",
            lambda: self.primary.raise_to(key, value, ttl=ttl),
            lambda: self.fallback.raise_to(key, value, ttl=ttl),
        )

    async def mark(self, key: str, number: int, *, window: int, ttl: float) -> Mark:
        return await self._do(
            "mark",
            lambda: self.primary.mark(key, number, window=window, ttl=ttl),
            lambda: self.fallback.mark(key, number, window=window, ttl=ttl),
        )

    async def close(self) -> None:
        await self.primary.close()
        await self.fallback.close()

    def __getattr__(self, name: str) -> Any:  # ping() and other primary-only extras
        return getattr(self.primary, name)
