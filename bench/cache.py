"""What a handler's cache costs per call, in process (no HTTP), in one run.

    python bench/cache.py                 # 20,000 calls per row
    python bench/cache.py --calls 2000    # quicker

Rows, median microseconds per ``await cache.get(key, loader)`` (the first tenth is warm-up):

- hit, process tier: the value is fresh in this process (no app: the process tier alone);
- hit, process tier with Redis behind: the same, bound to Redis as a running app binds it (a
  value fresh in the process costs no round trip);
- hit, Redis tier: the value is in Redis and not in this process (another replica loaded it):
  one round trip to a redis-server of the benchmark's own on loopback;
- miss, process tier: a new key each call, an instant loader (the load runs in a task of its
  own, so a deadline never cancels it);
- miss, Redis behind: the same with the shared tier's read first (the write follows the
  answer, in the load's task, and is not in the caller's time).

Every row checks its work: each call answers the loaded value, and the loads counted are the
ones the row expects (none for hits); the bench stops otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.redis_proc import redis_server  # noqa: E402
from ivrhooks.cache import Cache  # noqa: E402
from ivrhooks.store import Store, open_store  # noqa: E402

PREFIX = "ivrhooks:bench:cache:"
VALUE = {"team": ["2001", "2002", "2003"], "name": "Sales", "open": True}


class Loader:
    """An instant loader that counts its loads."""

    def __init__(self) -> None:
        self.loads = 0

    async def __call__(self) -> object:
        self.loads += 1
        return VALUE


async def per_call(get: Callable[[int], Awaitable[object]], calls: int) -> float:
    """Median microseconds of one awaited get; every get must answer VALUE."""
    samples = []
    for i in range(calls):
        started = time.perf_counter()
        value = await get(i)
        samples.append(time.perf_counter() - started)
        if value != VALUE:
            raise SystemExit(f"call {i} answered {value!r}")
    return statistics.median(samples[calls // 10 :]) * 1e6


def cache(store: Store | None) -> Cache:
    made = Cache("bench", maxsize=1_000_000)
    made.bind(store, prefix=PREFIX)
    return made


async def row(
    name: str, made: Cache, loader: Loader, calls: int, keys: Callable[[int], str], loads: int
) -> tuple[str, float]:
    micros = await per_call(lambda i: made.get(keys(i), loader), calls)
    await asyncio.sleep(0.05)  # the misses' writes to Redis finish (outside the caller's time)
    if loader.loads != loads:
        raise SystemExit(f"{name}: {loader.loads} loads, expected {loads}")
    return name, micros


async def measure(redis_url: str | None, calls: int) -> list[tuple[str, float]]:
    rows = []
    memory = cache(None)
    loader = Loader()
    await memory.get("hot", loader)
    rows.append(await row("hit, process tier", memory, loader, calls, lambda i: "hot", 1))
    rows.append(await row("miss, process tier", memory, Loader(), calls, str, calls))
    if redis_url is None:
        print("redis-server is not installed: the Redis rows are skipped", file=sys.stderr)
        return rows
    stores = [open_store(redis_url), open_store(redis_url)]
    try:
        near, far = cache(stores[0]), cache(stores[1])
        loader = Loader()
        await near.get("hot", loader)
        rows.append(
            await row(
                "hit, process tier with Redis behind", near, loader, calls, lambda i: "hot", 1
            )
        )
        filler = Loader()
        rows.append(await row("miss, Redis behind", near, filler, calls, str, calls))
        # ``far`` is another replica: every key is in Redis (``near`` loaded it), none in its
        # own process tier.
        rows.append(await row("hit, Redis tier", far, Loader(), calls, str, 0))
        await near.unbind()
        await far.unbind()
    finally:
        for store in stores:
            await store.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=20_000, help="calls per row")
    args = parser.parse_args()
    with redis_server() as url:
        rows = asyncio.run(measure(url, args.calls))
    print(f"{'cache get':<40} {'µs/call':>8}")
    for name, micros in rows:
        print(f"{name:<40} {micros:>8.1f}")


if __name__ == "__main__":
    main()
