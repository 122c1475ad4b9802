"""The inbox tests' pieces: an inbox of either kind (memory, or Redis on a real redis-server),
reports that can be awaited, and a run loop that stops with the test."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from ivrhooks.conf.events import EventsConfig
from ivrhooks.events.inbox import Handle, Inbox, MemoryInbox, ReportEvent, Retries
from ivrhooks.events.inbox.redis import RedisInbox

APP_ID = "evtest"
#: Retries fast enough for a test, never straight back: waits of 10-20 ms, then 20-40 ms.
FAST = Retries(base=0.02, cap=0.04)

MakeInbox = Callable[..., Inbox]


class Reports:
    """A ``report`` hook whose counts a test can wait for."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self._changed = asyncio.Event()

    def __call__(self, event: ReportEvent) -> None:
        self.counts[event] += 1
        self._changed.set()

    async def until(self, event: ReportEvent, n: int, within: float = 15) -> None:
        async with asyncio.timeout(within):
            while self.counts[event] < n:
                self._changed.clear()
                await self._changed.wait()


def redis_inbox(url: str, config: EventsConfig | None = None, **options: Any) -> RedisInbox:
    """A Redis inbox for tests: polling every 50 ms, fast retries (unless given)."""
    options.setdefault("retries", FAST)
    options.setdefault("poll", 0.05)
    options.setdefault("app_id", APP_ID)
    return RedisInbox(config or EventsConfig(), url, **options)


@pytest.fixture(params=["memory", "redis"])
async def make_inbox(request: pytest.FixtureRequest) -> AsyncIterator[MakeInbox]:
    """Makes inboxes of the parameter's kind (all closed after the test)."""
    url = request.getfixturevalue("redis_server").url if request.param == "redis" else None
    made: list[Inbox] = []

    def make(config: EventsConfig | None = None, **options: Any) -> Inbox:
        inbox: Inbox
        if url is None:
            options.setdefault("retries", FAST)
            inbox = MemoryInbox(config or EventsConfig(), **options)
        else:
            inbox = redis_inbox(url, config, **options)
        made.append(inbox)
        return inbox

    yield make
    for inbox in made:
        await inbox.close()


@contextlib.asynccontextmanager
async def running(inbox: Inbox, handle: Handle) -> AsyncIterator[asyncio.Task[None]]:
    """``inbox.run(handle)`` in a task for the block's length; an error it raised surfaces."""
    task = asyncio.create_task(inbox.run(handle))
    try:
        yield task
    finally:
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise  # the test itself is cancelled (its timeout): not the run's end
