"""A real headless browser (Debian's chromium, driven by Playwright) and ``ivrhooks`` processes
for it to look at: the dev page as a developer opens it."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx
import pytest

from tests.ports import spare_port

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Chromium's own background traffic (updates, sync, field trials) is refused on a closed
# network and slows every start: nothing but the page under test.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


# An app with a forward to another receptionist (two prompts, one session), a handler that
# raises (the fallback answers) and a receptionist that takes any keys, '*' and '#' included.
DEV_APP = """
from ivrhooks import IVRHooks, call, hangup

app = IVRHooks(receptionists=["8000"])

@app.dtmf("3")
async def menu(req):
    return call("8001")  # the PIN prompt, another receptionist of this app

@app.dtmf("1", receptionists=["8001"])
async def confirmed(req):
    return call("2001")

@app.dtmf("7")
async def broken(req):
    return 1 / 0

@app.dtmf("ALL", receptionists=["8002"])
async def keyed(req):
    return call("2001") if req.digits == "*0#" else hangup()

@app.fallback
def operator(req):
    return call("0")
"""
BROKEN_LINE = DEV_APP.splitlines().index("    return 1 / 0") + 1


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    """A fresh headless Chromium profile: a Playwright ``BrowserContext``."""
    if not Path(CHROMIUM).exists():
        pytest.fail(
            "needs Debian's chromium (scripts/test-tools installs it): apt-get install chromium"
        )
    from playwright.sync_api import expect, sync_playwright

    # Assertions wait up to 15 s, not Playwright's 5 s: what the page waits for (a call through
    # the PBX and the app, a live event) takes milliseconds, and a loaded machine must not
    # turn a slow second into a failure. Actions wait 10 s (below).
    expect.set_options(timeout=15_000)

    with (
        tempfile.TemporaryDirectory(prefix="ivrhooks-chromium-") as profile,
        sync_playwright() as playwright,
    ):
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 1000},
        )
        context.set_default_timeout(10_000)
        try:
            yield context
        finally:
            context.close()


@dataclass
class Served:
    """``ivrhooks run`` or ``ivrhooks dev`` in a process of its own, on free loopback ports."""

    proc: subprocess.Popen[bytes]
    log: Path
    port: int
    pbx_port: int
    ui_port: int
    stdin: IO[bytes] | None = field(default=None)

    def type(self, line: str) -> None:
        """A line typed at ``ivrhooks dev``'s prompt."""
        assert self.stdin is not None
        self.stdin.write(line.encode() + b"\n")
        self.stdin.flush()

    @property
    def page(self) -> str:
        return f"http://127.0.0.1:{self.ui_port}/"

    @property
    def pbx(self) -> str:
        return f"http://127.0.0.1:{self.pbx_port}"

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_ready(self, limit: float = 30.0) -> None:
        # A bounded poll: the app starts in another process, which sends no event.
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"ivrhooks exited early:\n{self.output()}"
            try:
                ready = httpx.get(f"http://127.0.0.1:{self.port}/readyz", timeout=2)
                page = httpx.get(self.page, timeout=2)
                if ready.status_code == 200 and page.status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise AssertionError(f"ivrhooks not ready within {limit} s:\n{self.output()}")


@contextlib.contextmanager
def ivrhooks(command: str, app: str | Path, log: Path, *, ready: bool = True) -> Iterator[Served]:
    """Start ``ivrhooks COMMAND APP`` (run or dev) with its dev page, and stop it after.

    ``ready=False`` yields as soon as the process is started: the caller does something else
    while it boots (starts a browser) and calls ``wait_ready()`` itself."""
    port, pbx_port, ui_port = spare_port(), spare_port(), spare_port()
    cmd = [sys.executable, "-m", "ivrhooks", command, str(app), "--port", str(port)]
    cmd += ["--pbx-port", str(pbx_port), "--ui-port", str(ui_port), "--log-level", "warning"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("IVRHOOKS_")}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=env,
            # dev reads its prompt from stdin and leaves at end of input: keep it open.
            stdin=subprocess.PIPE,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # one process group: dev's child is ended with it
        )
    served = Served(proc, log, port, pbx_port, ui_port, proc.stdin)
    try:
        if ready:
            served.wait_ready()
        yield served
    finally:
        assert proc.stdin is not None
        proc.stdin.close()  # dev: end of input, it stops its child and leaves
        if command != "dev":
            proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def ivrhooks_call(pbx: str, *args: str) -> str:
    """``ivrhooks call ... --pbx PBX`` from another process, as a developer types it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("IVRHOOKS_")}
    done = subprocess.run(
        [sys.executable, "-m", "ivrhooks", "call", *args, "--pbx", pbx],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout
