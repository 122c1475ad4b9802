"""The Redis inbox where Redis is the point, on a real redis-server: replicas sharing one
stream, a replica killed while handling, Redis stopping and coming back, the key names."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict

import pytest
import redis

from ivrhooks.conf.events import EventsConfig
from ivrhooks.errors import InboxUnavailableError
from ivrhooks.events.inbox import Delivery, Handle
from tests.events.inbox.conftest import APP_ID, Reports, redis_inbox, running
from tests.events.inbox.test_inbox import cdr
from tests.redis_server import RedisServer


async def test_two_replicas_handle_each_event_exactly_once(redis_server: RedisServer) -> None:
    reports = Reports()
    config = EventsConfig(concurrency=4)
    one = redis_inbox(redis_server.url, config, report=reports)
    two = redis_inbox(redis_server.url, config, report=reports)
    handled_by: dict[str, list[str]] = defaultdict(list)

    def handler(name: str) -> Handle:
        async def handle(delivery: Delivery) -> None:
            await asyncio.sleep(0.002)  # a little work: the other replica reads meanwhile
            handled_by[delivery.body["session_id"]].append(name)

        return handle

    try:
        async with running(one, handler("one")), running(two, handler("two")):
            for n in range(60):
                replica = (one, two)[n % 2]
                assert await replica.accept("cdr", [cdr(n)], [f"d{n}"]) == [True]
                # The PBX's resend of the same event reaching the other replica.
                assert await (two, one)[n % 2].accept("cdr", [cdr(n)], [f"d{n}"]) == [False]
            await reports.until("handled", 60)
            assert await one.backlog() == 0 and await two.backlog() == 0
    finally:
        await one.close()
        await two.close()
    shares = {name: sum(v == [name] for v in handled_by.values()) for name in ("one", "two")}
    print("events handled per replica:", shares)
    assert sorted(handled_by, key=int) == [str(n) for n in range(60)]
    assert all(len(names) == 1 for names in handled_by.values()), "each event exactly once"
    assert reports.counts["handled"] == 60


async def test_a_killed_replicas_event_is_claimed_by_another(redis_server: RedisServer) -> None:
    config = EventsConfig(claim_after=1)
    reports = Reports()
    killed = redis_inbox(redis_server.url, config)
    other = redis_inbox(redis_server.url, config, report=reports)
    started = asyncio.Event()
    seen: list[Delivery] = []

    async def hang(delivery: Delivery) -> None:
        started.set()
        await asyncio.Event().wait()

    async def handle(delivery: Delivery) -> None:
        seen.append(delivery)

    try:
        assert await killed.accept("cdr", [cdr(1)], ["d1"]) == [True]
        async with running(killed, hang):  # leaving the block cancels the run mid-handle
            async with asyncio.timeout(15):
                await started.wait()
        stopped = time.monotonic()
        async with running(other, handle):
            await reports.until("handled", 1)
        print(f"claimed and handled {time.monotonic() - stopped:.2f} s after the replica stopped")
        [delivery] = seen
        assert delivery.body == cdr(1) and delivery.attempt >= 2
        assert reports.counts["claimed"] == 1
        assert await other.backlog() == 0
    finally:
        await killed.close()
        await other.close()


async def test_a_slow_handler_keeps_its_event(redis_server: RedisServer) -> None:
    """A live replica renews its hold while its handler runs: a handler slower than
    claim_after is not handed to another replica as well."""
    config = EventsConfig(claim_after=1)
    reports = Reports()
    slow = redis_inbox(redis_server.url, config, report=reports)
    other = redis_inbox(redis_server.url, config, report=reports)
    seen: list[tuple[str, int]] = []
    started = asyncio.Event()

    async def slow_handle(delivery: Delivery) -> None:
        seen.append(("slow", delivery.attempt))
        started.set()
        # Past claim_after and the other replica's next claim check (every claim_after / 4):
        # without the renewals the other takes it over before this ends.
        await asyncio.sleep(1.6)

    async def other_handle(delivery: Delivery) -> None:
        seen.append(("other", delivery.attempt))

    try:
        await slow.accept("cdr", [cdr(1)], ["d1"])
        async with running(slow, slow_handle):
            async with asyncio.timeout(15):
                await started.wait()
            async with running(other, other_handle):
                await reports.until("handled", 1)
        assert seen == [("slow", 1)]
        assert reports.counts["claimed"] == 0
    finally:
        await slow.close()
        await other.close()


async def test_an_event_that_keeps_killing_replicas_is_buried(redis_server: RedisServer) -> None:
    config = EventsConfig(claim_after=1, max_attempts=1)
    reports = Reports()
    inboxes = [redis_inbox(redis_server.url, config, report=reports) for _ in range(3)]
    calls: list[int] = []
    called = asyncio.Event()

    async def hang(delivery: Delivery) -> None:
        calls.append(delivery.attempt)
        called.set()
        await asyncio.Event().wait()

    try:
        await inboxes[0].accept("cdr", [cdr(1)], ["d1"])
        for inbox in inboxes[:2]:  # two replicas die handling it
            called.clear()
            async with running(inbox, hang), asyncio.timeout(15):
                await called.wait()
        async with running(inboxes[2], hang):
            await reports.until("dead", 1)
        assert calls == [1, 2], "tried twice (max_attempts=1, but a lost replica gets a retry)"
        [dead] = await inboxes[2].dead()
        assert (dead.error_type, dead.attempts, dead.body) == ("ReplicaLost", 3, cdr(1))
    finally:
        for inbox in inboxes:
            await inbox.close()


class _Signal(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []
        self.changed = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())
        self.changed.set()

    async def until(self, text: str) -> None:
        async with asyncio.timeout(15):
            while not any(text in m for m in self.messages):
                self.changed.clear()
                await self.changed.wait()


async def test_redis_stopping_refuses_accept_and_run_resumes(redis_server: RedisServer) -> None:
    reports = Reports()
    inbox = redis_inbox(redis_server.url, report=reports)
    signal = _Signal()
    logger = logging.getLogger("ivrhooks.events")
    logger.addHandler(signal)
    seen: list[Delivery] = []

    async def handle(delivery: Delivery) -> None:
        seen.append(delivery)

    try:
        async with running(inbox, handle) as task:
            await inbox.accept("cdr", [cdr(1)], ["d1"])
            await reports.until("handled", 1)
            redis_server.stop()
            started = time.monotonic()
            with pytest.raises(InboxUnavailableError, match="IVRHOOKS_REDIS_URL"):
                async with asyncio.timeout(5):  # bounded: no hang, no retry loop
                    await inbox.accept("cdr", [cdr(2)], ["d2"])
            print(f"accept refused in {(time.monotonic() - started) * 1000:.1f} ms")
            assert reports.counts["unavailable"] == 1
            await signal.until("Redis failed")
            assert not task.done()
            await asyncio.to_thread(redis_server.start)  # back, empty (no persistence)
            async with asyncio.timeout(15):
                while True:  # as the PBX does: send again until answered
                    try:
                        await inbox.accept("cdr", [cdr(2)], ["d2"])
                        break
                    except InboxUnavailableError:
                        await asyncio.sleep(0.05)
            await reports.until("handled", 2)
            await signal.until("Redis answers again")
            assert not task.done()
        assert [d.body for d in seen] == [cdr(1), cdr(2)]
        assert sum("Redis failed" in m for m in signal.messages) == 1, "logged once"
    finally:
        logger.removeHandler(signal)
        await inbox.close()


async def test_every_key_lives_under_the_apps_prefix(redis_server: RedisServer) -> None:
    config = EventsConfig(max_attempts=1)
    reports = Reports()
    inbox = redis_inbox(redis_server.url, config, report=reports, dead_limit=1)

    async def handle(delivery: Delivery) -> None:
        raise ValueError("always")

    try:
        async with running(inbox, handle):
            for n in range(2):
                await inbox.accept("cdr", [cdr(n)], [f"d{n}"])
                await reports.until("dead", n + 1)
        await inbox.accept("cdr", [cdr(9)], ["d9"])  # waiting, with a group
        other = redis_inbox(redis_server.url, app_id="another")
        assert await other.backlog() == 0 and await other.dead() == []
        await other.close()
    finally:
        await inbox.close()
    client = redis.Redis.from_url(redis_server.url, decode_responses=True)
    try:
        keys = sorted(str(k) for k in client.keys("*"))
        groups = client.xinfo_groups(f"ivrhooks:{APP_ID}:events:stream")
        remembered = int(client.pttl(f"ivrhooks:{APP_ID}:events:seen:d0"))
    finally:
        client.close()
    print("keys:", keys)
    prefix = f"ivrhooks:{APP_ID}:events:"
    assert all(k.startswith(prefix) for k in keys)
    assert sorted({k.removeprefix(prefix).split(":")[0] for k in keys}) == [
        "dead",
        "seen",
        "stream",
    ]
    assert {k.removeprefix(prefix) for k in keys} >= {"dead", "dead:order", "dead:dropped"}
    assert [g["name"] for g in groups] == ["handlers"]
    window_ms = EventsConfig().dedup_window * 1000
    assert window_ms - 60_000 < remembered <= window_ms, "a digest expires after the window"
