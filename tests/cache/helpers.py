"""What the cache tests share: a loader that counts its loads, an injected clock, and the
events a cache reports."""

from __future__ import annotations

import asyncio
import copy
from collections import Counter
from typing import Any

__all__ = ["Clock", "Events", "Source", "settle"]


class Source:
    """A loader's back end: counts its loads; each answers ``value`` (or raises ``error``),
    once ``gate`` is open (default: open) and after ``delay`` seconds."""

    def __init__(
        self,
        value: Any = None,
        *,
        delay: float = 0.0,
        error: BaseException | None = None,
        gated: bool = False,
    ) -> None:
        self.value = value
        self.delay = delay
        self.error = error
        self.calls = 0
        self.finished = 0
        self.cancelled = 0
        self.gate = asyncio.Event()
        if not gated:
            self.gate.set()

    async def __call__(self) -> Any:
        self.calls += 1
        try:
            await self.gate.wait()
            if self.delay:
                await asyncio.sleep(self.delay)
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        self.finished += 1
        if self.error is not None:
            # A fresh exception each time, as a real call raises: one kept here would keep
            # alive the frames (and futures) of every load that raised it.
            raise copy.copy(self.error)
        return self.value


class Clock:
    """Wall-clock seconds the test moves by hand."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Events:
    """A cache's ``report(cache_name, event)`` callable, counting; ``wait_for`` an event."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, str]] = Counter()
        self._changed = asyncio.Event()

    def __call__(self, cache: str, event: str) -> None:
        self.counts[(cache, event)] += 1
        self._changed.set()

    def of(self, cache: str) -> dict[str, int]:
        return {event: n for (name, event), n in self.counts.items() if name == cache}

    async def wait_for(self, cache: str, event: str, count: int = 1) -> None:
        while self.counts[(cache, event)] < count:
            self._changed.clear()
            await self._changed.wait()


async def settle() -> None:
    """Let tasks that are ready run their next steps (no time passes)."""
    for _ in range(10):
        await asyncio.sleep(0)
