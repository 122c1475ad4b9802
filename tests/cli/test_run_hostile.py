"""What an operator sees in ``ivrhooks run``'s log (JSON lines on stderr) when something is
wrong (issue 23): a PBX certificate nobody checks is said at startup (finding 10), and a
handler's exception is its type and stack, never its message (finding 13)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from ivrhooks.core.auth import derive_credentials
from ivrhooks.testing import free_port
from tests.cli.processes import fake_pbx_process

SECRET = "run-hostile-secret-0123456789abcdef"
CALLER = "5551234"
APP = """
from ivrhooks import IVRHooks, RegistrationConfig, call

app = IVRHooks(
    receptionists=["8000"],
    auth="bearer",
    registration=RegistrationConfig(method="GET"),
)

def lookup(caller):
    raise LookupError(f"no account for caller {caller}")

@app.dtmf("1")
async def sales(req):
    try:
        return call(lookup(req.caller))
    except LookupError as exc:
        raise ValueError(f"CRM said: {exc}") from exc
"""


def run_until_ready(
    tmp_path: Path, then: Callable[[int], None] = lambda port: None, **env: str
) -> list[dict[str, Any]]:
    """``ivrhooks run hostileapp.py`` until /readyz answers, ``then(port)``, stop: every log
    line it wrote (each one JSON)."""
    (tmp_path / "hostileapp.py").write_text(APP)
    port = free_port()
    base = {k: v for k, v in os.environ.items() if not k.startswith("IVRHOOKS_")}
    cmd = [sys.executable, "-m", "ivrhooks", "run", "hostileapp.py", "--port", str(port)]
    proc = subprocess.Popen(
        [*cmd, "--pbx-port", str(free_port())],
        cwd=tmp_path,
        env={**base, "IVRHOOKS_SECRET": SECRET, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    ready = False
    try:
        deadline = time.monotonic() + 30
        while not ready and time.monotonic() < deadline and proc.poll() is None:
            try:  # a bounded poll: the server starts in another process
                ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200
            except httpx.TransportError:
                time.sleep(0.1)
        if ready:
            then(port)
    finally:
        proc.terminate()
        _, logs = proc.communicate(timeout=15)
    assert ready, f"not ready (exit {proc.returncode}): {logs}"
    return [json.loads(line) for line in logs.splitlines()]


def test_an_unverified_pbx_certificate_is_a_startup_warning(tmp_path: Path) -> None:
    with fake_pbx_process("8000:Main") as pbx_url:
        lines = run_until_ready(
            tmp_path,
            IVRHOOKS_PBX_URL=pbx_url,
            IVRHOOKS_PBX_USERNAME="admin",
            IVRHOOKS_PBX_PASSWORD="fakepbx",
            IVRHOOKS_PUBLIC_URL="https://ivr.example.com",
            IVRHOOKS_PBX_VERIFY_TLS="false",
        )
    warned = [line for line in lines if "IVRHOOKS_PBX_VERIFY_TLS" in line["event"]]
    assert len(warned) == 1, [line["event"] for line in lines]
    assert warned[0]["level"] == "WARNING"
    assert "not verified" in warned[0]["event"]
    assert "fakepbx" not in json.dumps(warned[0])  # the login is not part of the warning


def test_a_failing_handler_is_logged_by_type_and_stack_never_its_message(tmp_path: Path) -> None:
    answers: list[dict[str, Any]] = []

    def one_call(port: int) -> None:
        token = derive_credentials(SECRET, "sales").token
        reply = httpx.get(
            f"http://127.0.0.1:{port}/hooks/sales",
            params={"from": CALLER, "to": "8000", "input": "1", "session_id": "s-1"},
            headers={"authorization": f"Bearer {token}"},
        )
        answers.append(reply.json())

    lines = run_until_ready(tmp_path, one_call, IVRHOOKS_EMBEDDED_PBX="true")
    assert answers == [{"status_code": 200, "action": "repeat"}], "the fallback answered"
    [raised] = [line for line in lines if line["logger"] == "ivrhooks.handler"]
    assert (raised["level"], raised["event"]) == ("ERROR", "handler raised ValueError")
    stack = raised["exc"]
    assert stack.startswith("Traceback (most recent call last):")
    assert "NoneType" not in stack
    # Both exceptions of the chain, by type, with their frames in the user's file.
    assert "hostileapp.py" in stack and ", in lookup\n" in stack and ", in sales\n" in stack
    assert "\nLookupError\n" in stack and stack.endswith("\nValueError")
    assert "direct cause" in stack
    # Never the messages, which name the caller (the source lines quoted hold no number).
    everything = "\n".join(json.dumps(line) for line in lines)
    assert f"no account for caller {CALLER}" not in everything
    assert "CRM said: no account" not in everything
    assert CALLER not in json.dumps(raised)
