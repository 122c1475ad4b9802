"""Digest with the replay window in Redis against in this process's memory, in one run.

    python bench/shared_store.py            # 5 s per run, 5 rounds
    python bench/shared_store.py --quick    # 2 s per run, 2 rounds

Two ``ivrhooks run`` processes as users run them (default logging and settings, the embedded
fake PBX, 1,000 Digest routes), one with ``IVRHOOKS_REDIS_URL`` pointing at a redis-server of
the benchmark's own on loopback and one without, driven in turn round after round by the same
load as bench/e2e.py (``wrk -t1 -c32``; half the requests are 401 challenges, half spend a nonce).
Each authorised answer costs one atomic replay check: in memory a dictionary, in Redis one
round trip (a Lua script). The ratio of authorised answers/s is the figure (target >= 0.8).

Then the per-request cost of the store itself, in process with no HTTP: the replay check
(memory; Redis behind the fallback wrapper the app uses) and a session read + write, median
microseconds per operation.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.e2e import App, Scenario, fmt, load_command, probe, result_row, run_load, serve  # noqa: E402
from bench.redis_proc import redis_server  # noqa: E402
from ivrhooks.core.auth.replay import MemoryReplayStore  # noqa: E402
from ivrhooks.store import MemoryStore, Store, open_store  # noqa: E402
from ivrhooks.store.replay import StoreReplay  # noqa: E402

TARGET = 0.8


def apps(redis_url: str) -> dict[str, App]:
    run = "bench/apps/ivr_run.py:app"
    return {
        "memory": App(run, 1000, "digest", runner="run"),
        "redis": App(run, 1000, "digest", runner="run", env=(("IVRHOOKS_REDIS_URL", redis_url),)),
    }


SCENARIOS = [
    Scenario("ivrhooks run digest, memory", "memory", auth="digest"),
    Scenario("ivrhooks run digest, Redis", "redis", auth="digest"),
]


async def per_operation(work: Callable[[int], Awaitable[object]], n: int, expect: object) -> float:
    """Median microseconds of one awaited operation, the first tenth as warm-up; every
    operation must answer ``expect`` (a refused fresh nonce would be measuring nothing)."""
    samples = []
    for i in range(n):
        started = time.perf_counter()
        outcome = await work(i)
        samples.append(time.perf_counter() - started)
        if outcome != expect:
            raise SystemExit(f"operation {i} answered {outcome!r}, not {expect!r}")
    return statistics.median(samples[n // 10 :]) * 1e6


async def store_costs(redis_url: str, n: int) -> list[tuple[str, float]]:
    rows = []
    memory_window = MemoryReplayStore()
    now = time.time()

    async def memory_replay(i: int) -> object:
        return memory_window.check_and_set(f"nonce{i}", "user", 1, now, now)

    rows.append(("replay check, memory", await per_operation(memory_replay, n, "ok")))
    stores: list[tuple[str, Store]] = [
        ("memory store", MemoryStore()),
        ("Redis store", open_store(redis_url)),
    ]
    try:
        for label, store in stores:
            replay = StoreReplay(store, "bench:replay:")
            await replay.begin(now)  # as the server does at startup, before issuing nonces

            async def shared_replay(i: int, replay: StoreReplay = replay) -> object:
                return await replay.check_and_set(f"nonce{i}", "user", 1, now, now)

            async def session(i: int, store: Store = store) -> object:
                key = f"bench:session:{i % 50}"
                current = await store.get(key)
                return await store.swap(key, current, b'{"last":"%d"}' % i, ttl=60)

            rows.append((f"replay check, {label}", await per_operation(shared_replay, n, "ok")))
            rows.append((f"session read + write, {label}", await per_operation(session, n, True)))
    finally:
        for _, store in stores:
            await store.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 s runs, 2 rounds")
    parser.add_argument("--duration", type=int, default=5, help="seconds per run")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--operations", type=int, default=5000, help="per store-cost row")
    args = parser.parse_args()
    if args.quick:
        args.duration, args.rounds, args.operations = 2, 2, 2000
    tool = "wrk" if shutil.which("wrk") else "bench/loadgen.py (wrk not found)"
    print(f"load: {tool} -t1 -c32, {args.duration} s x {args.rounds} rounds")
    with redis_server() as redis_url:
        if redis_url is None:
            raise SystemExit("redis-server is not installed (apt-get install redis-server)")
        results: dict[str, list[dict[str, float]]] = {s.name: [] for s in SCENARIOS}
        with tempfile.TemporaryDirectory() as tmpdir, contextlib.ExitStack() as stack:
            tmp = Path(tmpdir)
            servers = {
                name: stack.enter_context(serve(app)) for name, app in apps(redis_url).items()
            }
            for s in SCENARIOS:  # correctness first, then a warm-up run
                probe(servers[s.app], s)
                run_load(load_command(servers[s.app], s, 1, tmp))
            for r in range(args.rounds):
                print(f"\nround {r + 1}/{args.rounds}")
                for s in SCENARIOS:
                    raw = run_load(load_command(servers[s.app], s, args.duration, tmp))
                    row = result_row(s, raw)
                    results[s.name].append(row)
                    print(f"  {s.name:30} {fmt(row)}")
        print("\nmedians over rounds (authorised answers/s)")
        for s in SCENARIOS:
            rows = results[s.name]
            med = {
                k: statistics.median(row[k] for row in rows) for k in ("rps", "p50_us", "p99_us")
            }
            med["bad"] = any(row["bad"] for row in rows)
            print(f"  {s.name:30} {fmt(med)}")
        memory, redis = (results[s.name] for s in SCENARIOS)
        per_round = [b["rps"] / a["rps"] for a, b in zip(memory, redis, strict=True)]
        median = statistics.median(per_round)
        verdict = "MET" if median >= TARGET else "NOT MET"
        rounds = " ".join(f"{x:.3f}" for x in per_round)
        print(f"\nRedis / memory: {rounds}  median {median:.3f}  {verdict} (>= {TARGET})")

        print(f"\nper-operation cost of the store, in process (median of {args.operations})")
        for label, micros in asyncio.run(store_costs(redis_url, args.operations)):
            print(f"  {label:38} {micros:8.1f} µs")


if __name__ == "__main__":
    main()
