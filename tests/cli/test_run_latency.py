"""Under ``ivrhooks run`` (uvloop, whose ``loop.time()`` is libuv's cached millisecond clock), the
request line's ``latency_ms`` still has sub-millisecond resolution, as documented: a fast
handler's latency is a fraction of a millisecond, not ``0.00`` or ``1.00``."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from pathlib import Path

from ivrhooks.fakepbx.remote import place_call
from tests.cli.test_run import APP, ROOT, wait_ready

CALLS = 20


async def test_a_fast_handlers_latency_is_a_fraction_of_a_millisecond(tmp_path: Path) -> None:
    (tmp_path / "runapp.py").write_text(APP)
    env = {k: v for k, v in os.environ.items() if not k.startswith("IVRHOOKS_")}
    cmd = [sys.executable, "-m", "ivrhooks", "run", str(tmp_path / "runapp.py"), "--port", "0"]
    cmd += ["--pbx-port", "0", "--no-ui", "--log-level", "info"]
    proc = await asyncio.create_subprocess_exec(
        *cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert proc.stdout is not None and proc.stderr is not None
    try:
        served = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
        pbx = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
        url = served.split()[-1]
        pbx_api = re.search(r"^embedded fake PBX: (\S+) ", pbx)
        assert pbx_api is not None, pbx
        await wait_ready(url + "/readyz", proc)
        for _ in range(CALLS):
            result = await asyncio.to_thread(
                place_call, pbx_api[1], to="8000", caller="101", digits="1"
            )
            assert result["hops"][0]["status"] == 200, result
    finally:
        proc.terminate()
        _, errors = await asyncio.wait_for(proc.communicate(), 15)
    lines = [json.loads(line) for line in errors.decode().splitlines() if line.startswith("{")]
    latencies = [line["latency_ms"] for line in lines if line.get("event") == "request"]
    print(f"latency_ms of {len(latencies)} calls: {latencies}")
    assert len(latencies) == CALLS
    # As the line carries it (two decimals): 0.00 and 1.00 are what a millisecond clock gives.
    assert any(0 < latency < 1 for latency in latencies), latencies
    assert not all(float(latency).is_integer() for latency in latencies), latencies
