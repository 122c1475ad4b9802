"""The inbox's behaviour, the same table for the memory inbox and the Redis one (a real
redis-server): dedup, all-or-nothing accepting, the backlog bound, concurrency, retries with
backoff, dead events and their retry."""

from __future__ import annotations

import asyncio
import itertools
import json
import subprocess
import sys
import time

import pytest

from ivrhooks.conf.events import EventsConfig
from ivrhooks.errors import InboxFullError, InvalidArgumentError
from ivrhooks.events.inbox import Delivery, Retries
from tests.events.inbox.conftest import MakeInbox, Reports, running


def cdr(n: int, **more: object) -> dict[str, object]:
    return {"event_type": "call_cdr", "session_id": str(n), "caller": "+4930123456", **more}


async def test_a_duplicate_is_accepted_once_and_handled_once(make_inbox: MakeInbox) -> None:
    reports = Reports()
    inbox = make_inbox(report=reports)
    a, b = cdr(1), cdr(2)
    assert await inbox.accept("cdr", [a, a], ["da", "da"]) == [True, False]  # in one batch
    assert await inbox.accept("cdr", [a, b], ["da", "db"]) == [False, True]  # sent again
    assert await inbox.backlog() == 2
    seen: list[Delivery] = []

    async def handle(delivery: Delivery) -> None:
        seen.append(delivery)

    async with running(inbox, handle):
        await reports.until("handled", 2)
        assert await inbox.backlog() == 0
    assert sorted(d.body["session_id"] for d in seen) == ["1", "2"]
    assert {d.kind for d in seen} == {"cdr"} and {d.attempt for d in seen} == {1}
    assert seen[0].body == a or seen[0].body == b
    assert (reports.counts["accepted"], reports.counts["duplicate"]) == (2, 2)


async def test_accept_is_all_or_nothing(make_inbox: MakeInbox) -> None:
    inbox = make_inbox(EventsConfig(backlog=3))
    assert await inbox.accept("cdr", [cdr(1)], ["d1"]) == [True]
    # A body that is not JSON spoils the batch: the first, fine, body is not stored either.
    with pytest.raises(InvalidArgumentError, match=r"bodies\[1\]"):
        await inbox.accept("cdr", [cdr(2), {"when": object()}], ["d2", "dx"])
    assert await inbox.backlog() == 1
    assert await inbox.accept("cdr", [cdr(2)], ["d2"]) == [True], "d2 was not remembered"


async def test_a_full_backlog_raises_and_stores_nothing(make_inbox: MakeInbox) -> None:
    reports = Reports()
    inbox = make_inbox(EventsConfig(backlog=3), report=reports)
    assert await inbox.accept("extension", [cdr(1), cdr(2)], ["d1", "d2"]) == [True, True]
    with pytest.raises(InboxFullError, match="IVRHOOKS_EVENTS_BACKLOG=3") as caught:
        await inbox.accept("extension", [cdr(1), cdr(3), cdr(4)], ["d1", "d3", "d4"])
    assert (caught.value.backlog, caught.value.limit) == (2, 3)
    assert await inbox.backlog() == 2
    assert (reports.counts["full"], reports.counts["accepted"]) == (2, 2)
    # Nothing of the refused batch was stored nor remembered: each fits again, one at a time,
    # and a duplicate is still recognised while the backlog is full.
    assert await inbox.accept("extension", [cdr(3)], ["d3"]) == [True]
    assert await inbox.accept("extension", [cdr(1)], ["d1"]) == [False]
    with pytest.raises(InboxFullError):
        await inbox.accept("extension", [cdr(4)], ["d4"])

    async def handle(delivery: Delivery) -> None:
        pass

    async with running(inbox, handle):
        await reports.until("handled", 3)
    assert await inbox.accept("extension", [cdr(4)], ["d4"]) == [True], "room again once handled"


async def test_handled_at_most_concurrency_at_a_time(make_inbox: MakeInbox) -> None:
    reports = Reports()
    inbox = make_inbox(EventsConfig(concurrency=3), report=reports)
    assert all(await inbox.accept("cdr", [cdr(n) for n in range(10)], [f"d{n}" for n in range(10)]))
    now = peak = 0
    three_in = asyncio.Event()
    gate = asyncio.Event()

    async def handle(delivery: Delivery) -> None:
        nonlocal now, peak
        now += 1
        peak = max(peak, now)
        if now == 3:
            three_in.set()
        try:
            await gate.wait()
        finally:
            now -= 1

    async with running(inbox, handle):
        async with asyncio.timeout(15):
            await three_in.wait()
        assert await inbox.backlog() == 10, "in hand still counts"
        gate.set()
        await reports.until("handled", 10)
    assert peak == 3


async def test_a_failing_handler_is_retried_with_backoff_then_dead(make_inbox: MakeInbox) -> None:
    reports = Reports()
    # rand() = 0: every wait is exactly its floor (half the ceiling): 200 ms, then 400 ms; well
    # above the Redis inbox's 50 ms polling, so a retry without its wait would show.
    retries = Retries(base=0.4, cap=1.6, rand=lambda: 0.0)
    inbox = make_inbox(EventsConfig(max_attempts=3), report=reports, retries=retries)
    [stored] = await inbox.accept("cdr", [cdr(7)], ["d7"])
    assert stored
    tries: list[tuple[int, float]] = []
    fixed = False

    async def handle(delivery: Delivery) -> None:
        tries.append((delivery.attempt, time.monotonic()))
        if not fixed:
            raise LookupError("no such caller +4930123456")

    async with running(inbox, handle):
        await reports.until("dead", 1)
        assert [attempt for attempt, _ in tries] == [1, 2, 3]
        gaps = [later - earlier for (_, earlier), (_, later) in itertools.pairwise(tries)]
        print("waits between tries (s):", [round(g, 3) for g in gaps])
        assert gaps[0] >= 0.2 - 0.005 and gaps[1] >= 0.4 - 0.005, "each retry waited its floor"
        assert reports.counts["retried"] == 2
        assert await inbox.backlog() == 0
        [dead] = await inbox.dead()
        assert dead.body == cdr(7) and dead.kind == "cdr" and dead.event_type == "call_cdr"
        assert (dead.attempts, dead.error_type) == (3, "LookupError")
        assert dead.error == "no such caller +4930123456"
        assert dead.failed >= dead.received
        # Fixed; retried by hand: handed out again from attempt 1, and gone from the dead list.
        fixed = True
        assert await inbox.retry_dead([dead.id, "no-such-id"]) == 1
        await reports.until("handled", 1)
    assert tries[-1][0] == 1 and len(tries) == 4
    assert await inbox.dead() == [] and await inbox.backlog() == 0
    assert await inbox.retry_dead() == 0


async def test_the_dead_list_is_bounded_oldest_out_and_counted(make_inbox: MakeInbox) -> None:
    reports = Reports()
    inbox = make_inbox(EventsConfig(max_attempts=1), report=reports, dead_limit=2)

    async def handle(delivery: Delivery) -> None:
        raise RuntimeError(delivery.body["session_id"])

    async with running(inbox, handle):
        for n in range(3):  # one at a time, so they die in order
            await inbox.accept("cdr", [cdr(n)], [f"d{n}"])
            await reports.until("dead", n + 1)
    dead = await inbox.dead()
    assert [d.error for d in dead] == ["2", "1"], "the most recent first; the oldest dropped"
    assert await inbox.dead_dropped() == 1 and reports.counts["dropped"] == 1
    assert [d.error for d in await inbox.dead(limit=1)] == ["2"]
    assert await inbox.retry_dead() == 2
    assert await inbox.dead() == [] and await inbox.backlog() == 2


async def test_accept_names_a_wrong_argument(make_inbox: MakeInbox) -> None:
    inbox = make_inbox()
    with pytest.raises(InvalidArgumentError, match="kind"):
        await inbox.accept("call", [cdr(1)], ["d1"])
    with pytest.raises(InvalidArgumentError, match="digests"):
        await inbox.accept("cdr", [cdr(1)], [])
    with pytest.raises(InvalidArgumentError, match=r"bodies\[0\]"):
        await inbox.accept("cdr", [["not", "an", "object"]], ["d1"])  # type: ignore[list-item]
    assert await inbox.accept("cdr", [], []) == []
    assert await inbox.backlog() == 0


def test_the_inbox_loads_no_redis_until_a_redis_inbox_is_made() -> None:
    script = (
        "import json, sys\n"
        "from ivrhooks.events.inbox import open_inbox\n"
        "from ivrhooks.conf.events import EventsConfig\n"
        "open_inbox(EventsConfig(), redis_url=None, app_id='x')\n"
        "import ivrhooks.events.inbox.redis\n"
        "print(json.dumps(sorted(m for m in ('redis', 'httpx', 'starlette', 'pydantic', 'click')"
        " if m in sys.modules)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert json.loads(done.stdout) == []
