"""Stopping a Redis inbox's run loop is prompt, whatever its blocking read is waiting for: an
app's shutdown must not wait out ``poll`` (a quiet app's read blocks that long)."""

from __future__ import annotations

import asyncio

from ivrhooks.conf.events import EventsConfig
from ivrhooks.events.inbox import Delivery
from ivrhooks.events.inbox.redis import RedisInbox
from tests.events.inbox.conftest import redis_inbox
from tests.events.inbox.test_inbox import cdr
from tests.redis_server import RedisServer

#: Far longer than the test waits for the loop to end.
POLL = 20.0


async def _handle_all_then_stop(inbox: RedisInbox, round_: int, total: int = 20) -> None:
    bodies = [cdr(100 * round_ + n) for n in range(total)]
    for n, body in enumerate(bodies):
        assert await inbox.accept("cdr", [body], [f"r{round_}-{n}"]) == [True]
    seen: list[Delivery] = []
    done = asyncio.Event()

    async def handle(delivery: Delivery) -> None:
        seen.append(delivery)
        if len(seen) == total:
            done.set()

    task = asyncio.create_task(inbox.run(handle))
    async with asyncio.timeout(15):
        await done.wait()
    task.cancel()
    finished, _ = await asyncio.wait({task}, timeout=POLL / 4)
    assert finished == {task}, f"round {round_}: run still blocked in its read"
    assert task.cancelled()
    assert sorted(str(d.body["session_id"]) for d in seen) == sorted(
        str(b["session_id"]) for b in bodies
    )


async def test_cancelling_run_as_its_last_event_is_handled_ends_it_at_once(
    redis_server: RedisServer,
) -> None:
    # The moment an app stops after its handlers ran: the loop is then starting its next
    # blocking read, whose socket write can swallow the cancellation (Python 3.11's
    # asyncio.wait_for, which redis-py writes with).
    inbox = redis_inbox(redis_server.url, EventsConfig(claim_after=3600), poll=POLL)
    try:
        for round_ in range(3):
            await _handle_all_then_stop(inbox, round_)
    finally:
        await inbox.close()
