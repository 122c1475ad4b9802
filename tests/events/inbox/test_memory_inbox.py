"""What only the memory inbox does: its dedup table expires and is bounded, a cancelled run
puts its events back, and closing says what is lost."""

from __future__ import annotations

import asyncio
import logging

import pytest

from ivrhooks.conf.events import EventsConfig
from ivrhooks.errors import InboxUnavailableError
from ivrhooks.events.inbox import Delivery, MemoryInbox
from tests.events.inbox.conftest import Reports, running
from tests.events.inbox.test_inbox import cdr


async def test_a_digest_is_remembered_for_the_dedup_window() -> None:
    now = 1000.0
    inbox = MemoryInbox(EventsConfig(dedup_window=60), clock=lambda: now)
    assert await inbox.accept("cdr", [cdr(1)], ["d1"]) == [True]
    now += 59.9
    assert await inbox.accept("cdr", [cdr(1)], ["d1"]) == [False]
    now += 0.2  # 60.1 s after it was first seen
    assert await inbox.accept("cdr", [cdr(1)], ["d1"]) == [True]
    assert await inbox.backlog() == 2


async def test_the_dedup_table_is_bounded_oldest_forgotten_first() -> None:
    inbox = MemoryInbox(EventsConfig(), dedup_limit=2)
    assert await inbox.accept("cdr", [cdr(1), cdr(2), cdr(3)], ["d1", "d2", "d3"]) == [True] * 3
    assert await inbox.accept("cdr", [cdr(3), cdr(2)], ["d3", "d2"]) == [False, False]
    assert await inbox.accept("cdr", [cdr(1)], ["d1"]) == [True], "d1 was pushed out"


async def test_a_cancelled_run_puts_its_events_back_uncounted() -> None:
    reports = Reports()
    inbox = MemoryInbox(EventsConfig(), report=reports)
    await inbox.accept("cdr", [cdr(1)], ["d1"])
    started = asyncio.Event()
    seen: list[int] = []

    async def hang(delivery: Delivery) -> None:
        started.set()
        await asyncio.Event().wait()

    async def handle(delivery: Delivery) -> None:
        seen.append(delivery.attempt)

    async with running(inbox, hang):
        async with asyncio.timeout(15):
            await started.wait()
    assert await inbox.backlog() == 1
    async with running(inbox, handle):
        await reports.until("handled", 1)
    assert seen == [1]


async def test_closing_says_what_is_lost_and_accepts_no_more(
    caplog: pytest.LogCaptureFixture,
) -> None:
    inbox = MemoryInbox(EventsConfig())
    await inbox.accept("extension", [{"extension": "sip:101@pbx"}], ["d1"])
    with caplog.at_level(logging.WARNING, "ivrhooks.events"):
        await inbox.close()
    assert "1 accepted events were not handled and are lost" in caplog.text
    assert "IVRHOOKS_REDIS_URL" in caplog.text
    with pytest.raises(InboxUnavailableError, match="closed"):
        await inbox.accept("extension", [{"extension": "sip:101@pbx"}], ["d2"])
