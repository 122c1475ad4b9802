"""``MemoryInbox``: the inbox in this process's memory, for one process (no ``IVRHOOKS_REDIS_URL``).

A bounded queue, a dedup table with expiry (bounded in size: past ``dedup_limit`` digests the
oldest are forgotten early, so the window shortens rather than memory growing), a heap of
events waiting for a retry, and a bounded dead list (oldest out, counted). Everything lives
and dies with the process: events accepted but not yet handled when it stops are lost (the
PBX was answered 200 for them), which is why several replicas, or a restart that must not
lose events, need Redis. Dead events can be listed and retried only from within the process.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import json
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ivrhooks.conf.events import EventsConfig
from ivrhooks.errors import InboxFullError, InboxUnavailableError
from ivrhooks.events.inbox.base import (
    DeadDelivery,
    Delivery,
    Handle,
    Report,
    Retries,
    Slots,
    describe,
    encode_batch,
    log,
    log_dead,
    reporter,
)

__all__ = ["MemoryInbox"]


@dataclass(eq=False)
class _Event:
    id: str
    kind: str
    text: str
    received: float
    failures: int = 0


@dataclass(frozen=True, eq=False)
class _Dead:
    event: _Event
    error_type: str
    error: str
    failed: float


class MemoryInbox:
    """The inbox in this process's memory (see the module's docstring)."""

    kind = "memory"

    def __init__(
        self,
        config: EventsConfig,
        *,
        report: Report | None = None,
        retries: Retries | None = None,
        dedup_limit: int = 100_000,
        dead_limit: int = 1000,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self._config = config
        self._report = reporter(report)
        self._retries = retries or Retries()
        self._dedup_limit = max(1, dedup_limit)
        self._dead_limit = max(1, dead_limit)
        self._clock = clock
        self._wall = wall
        self._ids = itertools.count(1)
        self._seen: OrderedDict[str, float] = OrderedDict()  # digest -> expiry, oldest first
        self._ready: deque[_Event] = deque()
        self._delayed: list[tuple[float, int, _Event]] = []  # (due, tie-break, event)
        self._order = itertools.count()
        self._in_hand = 0
        self._dead: OrderedDict[str, _Dead] = OrderedDict()
        self._dropped = 0
        self._slots = Slots(config.concurrency)
        self._wake = asyncio.Event()
        self._closed = False

    # -- accepting ------------------------------------------------------------------------

    async def accept(
        self, kind: str, bodies: Sequence[dict[str, Any]], digests: Sequence[str]
    ) -> list[bool]:
        texts = encode_batch(kind, bodies, digests)
        if self._closed:
            raise InboxUnavailableError("the event inbox is closed (the app is stopping)")
        now = self._clock()
        self._forget(now)
        # No await from here on: the checks and the stores are one step for the event loop.
        fresh: list[bool] = []
        batch: set[str] = set()
        for digest in digests:
            new = digest not in self._seen and digest not in batch
            if new:
                batch.add(digest)
            fresh.append(new)
        backlog = self._backlog()
        limit = self._config.backlog
        if backlog + len(batch) > limit:
            for _ in batch:
                self._report("full")
            raise InboxFullError(
                f"event backlog full: {backlog} events waiting, {len(batch)} more offered, "
                f"IVRHOOKS_EVENTS_BACKLOG={limit}; nothing stored (the PBX will send them again)",
                backlog=backlog,
                limit=limit,
            )
        received = self._wall()
        expiry = now + self._config.dedup_window
        for text, digest, new in zip(texts, digests, fresh, strict=True):
            if not new:
                self._report("duplicate")
                continue
            self._seen[digest] = expiry
            if len(self._seen) > self._dedup_limit:
                self._seen.popitem(last=False)
            self._ready.append(_Event(str(next(self._ids)), kind, text, received))
            self._report("accepted")
        if batch:
            self._wake.set()
        return fresh

    def _forget(self, now: float) -> None:
        # Every entry lives the same window, so insertion order is expiry order.
        seen = self._seen
        while seen:
            digest, expiry = next(iter(seen.items()))
            if expiry > now:
                break
            del seen[digest]

    def _backlog(self) -> int:
        return len(self._ready) + len(self._delayed) + self._in_hand

    async def backlog(self) -> int:
        return self._backlog()

    # -- handing out ----------------------------------------------------------------------

    async def run(self, handle: Handle) -> None:
        """Hand out events until cancelled. On cancellation the events in hand are cancelled
        too and go back to the front of the queue, their attempt not counted."""
        tasks: set[asyncio.Task[None]] = set()
        try:
            while True:
                await self._slots.wait()
                self._slots.take()  # at once: no other run may take the same slot meanwhile
                try:
                    event = await self._next()
                except BaseException:
                    self._slots.give()
                    raise
                self._in_hand += 1
                task = asyncio.create_task(self._handle(handle, event))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
        finally:
            for task in tasks:
                task.cancel()
            if tasks:
                await asyncio.gather(*tasks, return_exceptions=True)

    async def _next(self) -> _Event:
        while True:
            now = self._clock()
            delayed = self._delayed
            while delayed and delayed[0][0] <= now:
                self._ready.append(heapq.heappop(delayed)[2])
            if self._ready:
                return self._ready.popleft()
            self._wake.clear()
            timeout = delayed[0][0] - now if delayed else None
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for may drop a cancellation
            # that arrives as the wake-up does (CPython gh-86296), and run would not stop.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self._wake.wait()

    async def _handle(self, handle: Handle, event: _Event) -> None:
        delivery = Delivery(
            id=event.id,
            kind=event.kind,
            body=json.loads(event.text),
            attempt=event.failures + 1,
            received=event.received,
        )
        try:
            await handle(delivery)
        except asyncio.CancelledError:
            self._ready.appendleft(event)
            raise
        except Exception as exc:
            event.failures += 1
            self._failed(event, exc)
        else:
            self._report("handled")
        finally:
            self._in_hand -= 1
            self._slots.give()

    def _failed(self, event: _Event, error: Exception) -> None:
        if event.failures < self._config.max_attempts:
            due = self._clock() + self._retries.delay(event.failures)
            heapq.heappush(self._delayed, (due, next(self._order), event))
            self._wake.set()
            self._report("retried")
            return
        error_type, message = describe(error)
        self._dead[event.id] = _Dead(event, error_type, message, self._wall())
        self._report("dead")
        log_dead(event.kind, event.id, event.failures, error_type)
        while len(self._dead) > self._dead_limit:
            self._dead.popitem(last=False)
            self._dropped += 1
            self._report("dropped")

    # -- dead events ----------------------------------------------------------------------

    async def dead(self, limit: int = 100) -> list[DeadDelivery]:
        found: list[DeadDelivery] = []
        for dead in reversed(self._dead.values()):
            if len(found) >= limit:
                break
            event = dead.event
            found.append(
                DeadDelivery(
                    id=event.id,
                    kind=event.kind,
                    body=json.loads(event.text),
                    attempts=event.failures,
                    error_type=dead.error_type,
                    error=dead.error,
                    received=event.received,
                    failed=dead.failed,
                )
            )
        return found

    async def dead_dropped(self) -> int:
        return self._dropped

    async def retry_dead(self, ids: Sequence[str] | None = None) -> int:
        wanted = self._dead if ids is None else dict.fromkeys(ids)
        chosen = [id_ for id_ in wanted if id_ in self._dead]
        for id_ in chosen:
            event = self._dead.pop(id_).event
            event.failures = 0
            self._ready.append(event)
        if chosen:
            self._wake.set()
        return len(chosen)

    async def close(self) -> None:
        self._closed = True
        if waiting := self._backlog():
            log.warning(
                "events: %d accepted events were not handled and are lost with this process "
                "(set IVRHOOKS_REDIS_URL to keep them across restarts)",
                waiting,
            )
