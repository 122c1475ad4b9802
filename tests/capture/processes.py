"""``ivrhooks run --capture`` and ``ivrhooks call`` / ``ivrhooks replay`` as a person runs them:
processes of their own, on ports the kernel picks."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]

__all__ = ["ROOT", "Capturing", "cli", "metric", "run_capturing"]


def _environ(extra: Mapping[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IVRHOOKS_")}
    env.update(extra)
    return env


@dataclass
class Capturing:
    """An ``ivrhooks run`` process with the embedded PBX, as its first lines describe it."""

    proc: asyncio.subprocess.Process
    lines: list[str]
    url: str
    pbx: str
    password: str

    def call(self, *args: str) -> subprocess.CompletedProcess[str]:
        """``ivrhooks call ARGS --pbx URL`` from another process."""
        return cli("call", *args, "--pbx", self.pbx)

    async def metrics(self) -> str:
        async with httpx.AsyncClient() as http:
            return (await http.get(self.url + "/metrics")).text


@contextlib.asynccontextmanager
async def run_capturing(
    app: Path, *args: str, env: Mapping[str, str] | None = None
) -> AsyncIterator[Capturing]:
    """``ivrhooks run APP --port 0 --pbx-port 0 --ui-port 0 ARGS``, ready; the output it writes
    after its first lines is in ``lines`` once the block ends."""
    cmd = [sys.executable, "-m", "ivrhooks", "run", str(app), "--port", "0", "--pbx-port", "0"]
    cmd += ["--ui-port", "0", "--log-level", "warning", *args]
    proc = await asyncio.create_subprocess_exec(
        *cmd,
        env=_environ(env or {}),
        cwd=app.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    assert proc.stdout is not None
    lines: list[str] = []
    try:
        async with asyncio.timeout(30):
            while not lines or not lines[-1].startswith("place a call:"):
                line = (await proc.stdout.readline()).decode()
                assert line, "ivrhooks run ended early:\n" + "".join(lines)
                lines.append(line)
        text = "".join(lines)
        served = re.search(r"^serving on (\S+)$", text, re.MULTILINE)
        login = re.search(r"^embedded fake PBX: (\S+) \(login \S+ / (\S+)\)$", text, re.MULTILINE)
        assert served is not None and login is not None, lines
        run = Capturing(proc, lines, served[1], login[1], login[2])
        await _ready(run.url + "/readyz", proc)
        yield run
    finally:
        if proc.returncode is None:
            proc.terminate()
        rest, _ = await asyncio.wait_for(proc.communicate(), 15)
        lines.append(rest.decode())


async def _ready(url: str, proc: asyncio.subprocess.Process, limit: float = 30.0) -> None:
    deadline = time.monotonic() + limit
    async with httpx.AsyncClient() as http:
        while True:  # a bounded poll: the app starts in another process
            assert proc.returncode is None, "ivrhooks run exited early"
            try:
                if (await http.get(url)).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"{url} not ready within {limit}s"
            await asyncio.sleep(0.1)


def cli(
    *args: str, cwd: Path = ROOT, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``python -m ivrhooks ARGS`` in a process of its own, no ``IVRHOOKS_*`` inherited."""
    return subprocess.run(
        [sys.executable, "-m", "ivrhooks", *args],
        env=_environ(env or {}),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def metric(text: str, name: str, **labels: str) -> float:
    """The value of one sample in a Prometheus text exposition (0 when absent)."""
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    sample = f"{name}{{{wanted}}}" if wanted else name
    for line in text.splitlines():
        if line.startswith(sample + " "):
            return float(line.rpartition(" ")[2])
    return 0.0


async def wait_for_metric(
    run: Capturing, name: str, at_least: float, limit: float = 10.0, **labels: str
) -> float:
    """Poll ``/metrics`` until ``name{labels}`` reaches ``at_least`` (the capture is written by
    a thread of the other process, a moment after the answer)."""
    deadline = time.monotonic() + limit
    while True:
        value = metric(await run.metrics(), name, **labels)
        if value >= at_least or time.monotonic() > deadline:
            return value
        await asyncio.sleep(0.05)
