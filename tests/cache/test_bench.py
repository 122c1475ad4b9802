"""bench/cache.py runs and prints its rows, each of which checked its own work (the values
answered, the loads counted): not a timing test."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_cache_bench_prints_memory_and_redis_rows_it_verified() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "cache.py"), "--calls", "200"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    rows = [line.rsplit(maxsplit=1)[0].strip() for line in done.stdout.splitlines()[1:]]
    assert rows == [
        "hit, process tier",
        "miss, process tier",
        "hit, process tier with Redis behind",
        "miss, Redis behind",
        "hit, Redis tier",
    ]
