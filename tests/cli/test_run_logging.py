"""``ivrhooks run``'s request lines, in a real process: none lost on a clean shutdown, and a
stderr nobody reads (a full pipe) does not stop the service answering."""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import signal
import subprocess
import sys
import termios
import threading
from pathlib import Path
from typing import Any

import httpx

from ivrhooks.core.auth import derive_credentials
from tests.cli.test_run import ROOT
from tests.ports import spare_port

SECRET = "run-logging-secret-0123456789abcdef"
APP = f"""
from ivrhooks import IVRHooks, RegistrationConfig, call

app = IVRHooks(
    receptionists=["8000"],
    auth="bearer",
    secret={SECRET!r},
    registration=RegistrationConfig(method="GET"),
    env=False,
)

@app.dtmf("1")
async def sales(req):
    return call("2001")
"""
CALLER = "5551234"


def _start(tmp_path: Path, stderr: int) -> tuple[subprocess.Popen[bytes], int]:
    (tmp_path / "logapp.py").write_text(APP)
    port = spare_port()
    cmd = [sys.executable, "-m", "ivrhooks", "run", str(tmp_path / "logapp.py")]
    cmd += ["--port", str(port), "--pbx-port", str(spare_port()), "--ui-port", "0"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("IVRHOOKS_")}
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=stderr)
    return proc, port


async def _wait_ready(proc: subprocess.Popen[bytes], port: int) -> None:
    async with httpx.AsyncClient() as http:
        for _ in range(600):  # a bounded poll: the server starts in another process
            assert proc.poll() is None, "ivrhooks run exited early"
            try:
                if (await http.get(f"http://127.0.0.1:{port}/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.05)
    raise AssertionError("ivrhooks run did not get ready")


async def _calls(port: int, count: int) -> list[dict[str, Any]]:
    token = derive_credentials(SECRET, "sales").token
    url = f"http://127.0.0.1:{port}/hooks/sales"
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}) as http:

        async def one(n: int) -> dict[str, Any]:
            query = {"from": CALLER, "to": "8000", "input": "1", "session_id": f"s-{n}"}
            reply = await http.get(url, params=query)
            assert reply.status_code == 200
            body: dict[str, Any] = reply.json()
            return body

        answers: list[dict[str, Any]] = []
        for start in range(0, count, 25):
            answers += await asyncio.gather(*(one(n) for n in range(start, min(count, start + 25))))
        return answers


async def _dropped(port: int) -> float:
    async with httpx.AsyncClient() as http:
        text = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
    [value] = [
        line.split()[1] for line in text.splitlines() if line.startswith("ivrhooks_log_lines_")
    ]
    return float(value)


def _request_lines(raw: bytes) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in raw.decode().splitlines()]  # every line is JSON
    return [line for line in lines if line["event"] == "request"]


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)  # uvicorn's clean shutdown
    # uvicorn ends by raising the signal again, so the exit status says SIGTERM.
    assert proc.wait(30) in (0, -signal.SIGTERM)


async def test_no_request_line_is_lost_on_a_clean_shutdown(tmp_path: Path) -> None:
    log = os.open(tmp_path / "stderr.log", os.O_WRONLY | os.O_CREAT)
    proc, port = _start(tmp_path, log)
    os.close(log)
    try:
        await _wait_ready(proc, port)
        answers = await _calls(port, 300)
    finally:
        _stop(proc)
    assert all(a["destination"] == "2001" for a in answers)
    raw = (tmp_path / "stderr.log").read_bytes()
    lines = _request_lines(raw)
    assert sorted(line["session_id"] for line in lines) == sorted(f"s-{n}" for n in range(300))
    assert {line["caller"] for line in lines} == {"55***34"}
    assert CALLER.encode() not in raw


async def test_a_blocked_stderr_does_not_block_answers(tmp_path: Path) -> None:
    read_end, write_end = os.pipe()
    size = fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, 4096)  # a small pipe fills at once
    proc, port = _start(tmp_path, write_end)
    os.close(write_end)
    drained = bytearray()
    try:
        await _wait_ready(proc, port)
        # Nobody reads stderr: a few hundred request lines are far more than the pipe holds.
        answers = await _calls(port, 200)
        assert len(answers) == 200
        # The pipe holds at most ``size`` bytes, far less than 200 request lines: most of them
        # could not have been written when the answers came back, so writes to stderr blocked.
        waiting = bytearray(4)
        fcntl.ioctl(read_end, termios.FIONREAD, waiting)
        assert int.from_bytes(waiting, sys.byteorder) <= size < 200 * 200
        assert await _dropped(port) == 0  # the buffer held every line meanwhile

        def drain() -> None:
            while chunk := os.read(read_end, 65536):
                drained.extend(chunk)

        reader = threading.Thread(target=drain)
        reader.start()
    finally:
        _stop(proc)
    reader.join(30)
    os.close(read_end)
    lines = _request_lines(bytes(drained))
    assert len(lines) == 200  # and, once stderr drains, every one of them is written
