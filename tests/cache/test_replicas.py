"""Two ``ivrhooks run`` processes sharing a real redis-server, each with its embedded fake PBX:
a call through the first loads the cached value, a call through the second is a hit."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from ivrhooks.testing import free_port
from tests.redis_server import RedisServer

ROOT = Path(__file__).resolve().parents[2]

APP = """\
import os

from ivrhooks import IVRHooks, call

app = IVRHooks(receptionists=["8000"])
managers = app.cache("managers", ttl=300)


async def load_team():
    # Every load is a line in a file both processes share: what the test counts.
    with open(os.environ["CACHE_LOADS"], "a") as loads:
        loads.write(f"{os.getpid()}\\n")
    return {"ext": "2001"}


@app.dtmf("1")
async def sales(req):
    team = await managers.get("sales", load_team)
    return call(team["ext"])
"""


@asynccontextmanager
async def _replicas(app: Path, env: dict[str, str], n: int) -> AsyncIterator[list[tuple[str, str]]]:
    """``n`` processes of ``ivrhooks run APP``, each with its own embedded PBX; yields each one's
    app URL and PBX URL. Each starts once the one before is ready: each has a registration of its
    own (its URL), and a newer one supersedes a replica that has not registered yet. All are
    stopped at once at the end."""
    procs: list[asyncio.subprocess.Process] = []
    found: list[tuple[str, str]] = []
    try:
        for _ in range(n):
            pbx = f"http://127.0.0.1:{free_port()}"
            proc = await asyncio.create_subprocess_exec(
                *(sys.executable, "-m", "ivrhooks", "run", str(app), "--log-level", "warning"),
                *("--port", "0", "--pbx-port", pbx.rpartition(":")[2], "--ui-port", "0"),
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
            procs.append(proc)
            found.append((await _serving(proc), pbx))
        yield found
    finally:
        for proc in procs:
            proc.terminate()
        await asyncio.wait_for(asyncio.gather(*(proc.communicate() for proc in procs)), 15)


async def _serving(proc: asyncio.subprocess.Process) -> str:
    """The app's URL, which it prints first, once it answers ``/readyz``."""
    assert proc.stdout is not None
    first = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
    assert first.startswith("serving on http://127.0.0.1:"), first
    url = first.split()[-1]
    await _ready(url + "/readyz", proc)
    return url


async def _ready(url: str, proc: asyncio.subprocess.Process, limit: float = 30.0) -> None:
    deadline = time.monotonic() + limit
    async with httpx.AsyncClient() as http:
        while True:  # a bounded poll: the app starts (and registers) in another process
            try:
                if (await http.get(url, timeout=1)).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            assert proc.returncode is None, "ivrhooks run exited"
            assert time.monotonic() < deadline, f"{url} not ready"
            await asyncio.sleep(0.02)


async def _call(pbx: str) -> str:
    """``ivrhooks call`` as a person runs it, through one process's embedded PBX."""
    proc = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "ivrhooks", "call", "--to", "8000", "--digits", "1"),
        *("--pbx", pbx),
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if not k.startswith("IVRHOOKS_")},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, out.decode()
    return out.decode()


async def _events(url: str) -> dict[str, float]:
    async with httpx.AsyncClient() as http:
        text = (await http.get(url + "/metrics")).text
    return {
        s.labels["event"]: s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "ivrhooks_cache_events_total" and s.value
    }


async def test_a_value_loaded_through_one_process_is_a_hit_through_the_other(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    app = tmp_path / "cached.py"
    app.write_text(APP)
    loads = tmp_path / "loads.txt"
    loads.touch()
    env = {k: v for k, v in os.environ.items() if not k.startswith("IVRHOOKS_")}
    env.update(
        IVRHOOKS_EMBEDDED_PBX="true",
        IVRHOOKS_REDIS_URL=redis_server.url,
        # One app: the same id in both processes (each one's embedded PBX reaches it at its own
        # URL, from which the id would otherwise be derived).
        IVRHOOKS_APP_ID="cached",
        CACHE_LOADS=str(loads),
    )
    async with _replicas(app, env, 2) as [(first, first_pbx), (second, pbx)]:
        one = await _call(first_pbx)
        assert len(loads.read_text().split()) == 1
        two = await _call(pbx)
        first_events, second_events = await _events(first), await _events(second)
    assert "decision: call 2001" in one and "decision: call 2001" in two, (one, two)
    assert len(loads.read_text().split()) == 1, "the second process found the value in Redis"
    assert first_events == {"miss": 1}
    assert second_events == {"hit": 1}
