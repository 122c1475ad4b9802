"""Events accepted per second by one event inbox, in memory and in Redis, and the accept latency.

    python bench/events.py [--events N] [--callers C]

One inbox, ``C`` concurrent callers (as concurrent PBX requests to the event endpoint would
be), each accepting one event per call with a digest of its own (a ``call_cdr`` of about
1 KiB, as event-reference.md shows it). Accepting is the whole work of the endpoint, so its
latency is what the PBX waits for. Then the inbox hands the events to a handler that does
nothing: events handled per second at ``EventsConfig.concurrency`` 8.

With ``redis-server`` installed, the Redis inbox is measured too (a server of its own on a free
loopback port; each accept is one round trip, a Lua script). What is timed is checked outside
the timed span: every accept stored its event (``[True]``), the backlog then equals the number
accepted, a second offer of each event is refused as a duplicate, and the handler sees every
event exactly once. The bench stops with the reason otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.redis_proc import redis_server
from ivrhooks.conf.events import EventsConfig
from ivrhooks.events.inbox import Delivery, Inbox, MemoryInbox
from ivrhooks.events.inbox.redis import RedisInbox


def call_cdr(n: int) -> dict[str, Any]:
    target = {
        "call_type": "ivr",
        "start_time": "1755000000",
        "answered_time": "1755000001",
        "ended_time": "1755000008",
        "id": f"{n}-1",
        "callee": "5000",
        "caller": "+4930123456",
        "destination": "sip:5000@pbx.example.com",
        "status": "answered",
        "trunk_name": "trunk",
        "cost": 0,
        "status_code": 0,
        "direction": "inbound",
        "end_reason": "referred",
        "did": "+4930999999",
        "outbound_caller_id": "",
        "ring_duration": "1",
        "talk_duration": "7",
    }
    return {
        "event_type": "call_cdr",
        "time": "1755000000",
        "session_id": str(1_000_000_000 + n),
        "tenant_id": "123456789",
        "direction": "inbound",
        "did": "+4930999999",
        "outbound_caller_id": "",
        "start_time": "1755000000",
        "ring_time": "1755000000",
        "answered_time": "1755000001",
        "ended_time": "1755000030",
        "call_id": f"{n}@pbx.example.com",
        "caller": "+4930123456",
        "caller_display_name": "Caller",
        "caller_domain": "pbx.example.com",
        "callee": "5000",
        "callee_domain": "pbx.example.com",
        "call_status": "answered",
        "status_code": "0",
        "trunk_name": "trunk",
        "tenant_name": "example",
        "ended_reason": "callee_disconnect",
        "ring_duration": "1",
        "talk_duration": 21,
        "call_targets": [target, {**target, "id": f"{n}-2", "callee": "8000"}],
    }


async def accept_all(inbox: Inbox, total: int, callers: int) -> tuple[float, list[float]]:
    """Seconds for ``total`` accepts by ``callers`` concurrent callers; each call's latency."""
    bodies = [call_cdr(n) for n in range(total)]
    latencies: list[float] = []

    async def caller(start: int) -> None:
        for n in range(start, total, callers):
            began = time.perf_counter()
            stored = await inbox.accept("cdr", [bodies[n]], [f"digest-{n}"])
            latencies.append(time.perf_counter() - began)
            if stored != [True]:
                raise SystemExit(f"event {n} was not stored: {stored}")

    began = time.perf_counter()
    await asyncio.gather(*(caller(i) for i in range(callers)))
    return time.perf_counter() - began, latencies


async def check_and_drain(inbox: Inbox, total: int) -> float:
    """Checks what was accepted, then seconds for the handler to see every event."""
    if (waiting := await inbox.backlog()) != total:
        raise SystemExit(f"{inbox.kind}: backlog {waiting} after {total} accepts")
    again = await inbox.accept(
        "cdr", [call_cdr(0), call_cdr(total - 1)], ["digest-0", f"digest-{total - 1}"]
    )
    if again != [False, False]:
        raise SystemExit(f"{inbox.kind}: a second offer was stored: {again}")
    seen: Counter[str] = Counter()
    done = asyncio.Event()

    async def handle(delivery: Delivery) -> None:
        seen[delivery.body["session_id"]] += 1
        if len(seen) == total:
            done.set()

    began = time.perf_counter()
    task = asyncio.create_task(inbox.run(handle))
    try:
        async with asyncio.timeout(120):
            await done.wait()
        elapsed = time.perf_counter() - began
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    if set(seen.values()) != {1}:
        raise SystemExit(f"{inbox.kind}: some events were handled more than once")
    return elapsed


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.3f}"


async def main(total: int, callers: int) -> None:
    config = EventsConfig(backlog=10_000_000)
    rows = [("inbox", "accepted/s", "p50 ms", "p99 ms", "handled/s")]

    async def row(name: str, make: Any) -> None:
        warm = make()
        try:  # connections, scripts, the allocator
            await accept_all(warm, min(500, total), callers)
            await check_and_drain(warm, min(500, total))
        finally:
            await warm.close()
        inbox = make()
        try:
            elapsed, latencies = await accept_all(inbox, total, callers)
            handled = await check_and_drain(inbox, total)
        finally:
            await inbox.close()
        cuts = statistics.quantiles(latencies, n=100)
        rows.append(
            (name, f"{total / elapsed:,.0f}", ms(cuts[49]), ms(cuts[98]), f"{total / handled:,.0f}")
        )

    await row("memory", lambda: MemoryInbox(config))
    with redis_server() as url:
        if url is None:
            print("redis-server is not installed: the Redis row is skipped")
        else:
            apps = iter(range(1_000_000))
            await row("redis", lambda: RedisInbox(config, url, app_id=f"bench{next(apps)}"))
    print(f"{total} events, {callers} concurrent callers, one event per accept")
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print(
            "  ".join(
                cell.rjust(w) if i else cell.ljust(w)
                for i, (cell, w) in enumerate(zip(r, widths, strict=True))
            )
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000, help="events per inbox")
    parser.add_argument("--callers", type=int, default=16, help="concurrent accepting callers")
    args = parser.parse_args()
    asyncio.run(main(args.events, args.callers))
