"""The mistakes of moving from a laptop to a deployment, as a person meets them: each is one
line naming the variable (and the value tried), from a real process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from ivrhooks.testing import free_port

APP = """
from ivrhooks import IVRHooks, call
app = IVRHooks(receptionists=["8000"])

@app.dtmf("1")
async def sales(req):
    return call("2001")
"""
SECRET = "operating-tests-secret-0123456789"


def _run(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "opsapp.py").write_text(APP)
    base = {k: v for k, v in os.environ.items() if not k.startswith("IVRHOOKS_")}
    return subprocess.run(
        [sys.executable, "-m", "ivrhooks", *args],
        cwd=tmp_path,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _one_error(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    (line,) = [line for line in done.stderr.splitlines() if line.startswith("Error:")]
    return line


def test_a_misspelled_variable_stops_startup_naming_the_closest(tmp_path: Path) -> None:
    done = _run(
        tmp_path,
        "run",
        "opsapp.py",
        "--port",
        "0",
        IVRHOOKS_PBX_URI="https://pbx.example.com:8887/api",
        IVRHOOKS_PBX_USERNAME="svc",
        IVRHOOKS_PBX_PASSWORD="secret",
        IVRHOOKS_SECRET=SECRET,
    )
    line = _one_error(done)
    assert "IVRHOOKS_PBX_URI is not an ivrhooks setting; did you mean IVRHOOKS_PBX_URL?" in line
    assert "embedded fake PBX" not in done.stdout, "nothing was started"


@pytest.mark.parametrize(
    "variable", ["IVRHOOKS_PBX_USERNAME", "IVRHOOKS_PBX_TOKEN", "IVRHOOKS_SECRET"]
)
def test_production_settings_without_a_pbx_url_never_start_the_fake_pbx(
    tmp_path: Path, variable: str
) -> None:
    value = SECRET if variable == "IVRHOOKS_SECRET" else "somevalue123"
    line = _one_error(_run(tmp_path, "run", "opsapp.py", "--port", "0", **{variable: value}))
    assert f"{variable} is set but IVRHOOKS_PBX_URL is not: set IVRHOOKS_PBX_URL" in line


def test_a_short_secret_names_the_variable_not_its_value(tmp_path: Path) -> None:
    line = _one_error(
        _run(
            tmp_path,
            "run",
            "opsapp.py",
            "--port",
            "0",
            IVRHOOKS_SECRET="short",
            IVRHOOKS_EMBEDDED_PBX="true",
        )
    )
    assert "IVRHOOKS_SECRET: must be at least 16 bytes" in line and "short" not in line


def test_nothing_listening_at_the_pbx_url_names_the_url_and_the_variable(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/api"
    line = _one_error(
        _run(
            tmp_path,
            "plan",
            "opsapp.py",
            IVRHOOKS_PBX_URL=url,
            IVRHOOKS_PBX_USERNAME="svc",
            IVRHOOKS_PBX_PASSWORD="secret",
            IVRHOOKS_SECRET=SECRET,
            IVRHOOKS_PUBLIC_URL="https://ivr.example.com",
        )
    )
    assert f"cannot reach the PBX at {url} (IVRHOOKS_PBX_URL)" in line
    assert "secret" not in line.lower().replace("ivrhooks_secret", "")


def test_a_login_in_a_url_is_refused_and_never_shown(tmp_path: Path) -> None:
    """A password written into IVRHOOKS_PBX_URL would reach /readyz, the startup log and every
    message naming the URL: it is refused, and the refusal shows the URL without it."""
    line = _one_error(
        _run(
            tmp_path,
            "run",
            "opsapp.py",
            "--port",
            "0",
            IVRHOOKS_PBX_URL="https://svc:hunter2pass@pbx.example.com:8887/api",
            IVRHOOKS_PBX_USERNAME="svc",
            IVRHOOKS_PBX_PASSWORD="other-password",
            IVRHOOKS_SECRET=SECRET,
        )
    )
    assert "IVRHOOKS_PBX_URL='https://svc:***@pbx.example.com:8887/api'" in line
    assert "must not carry a login" in line and "IVRHOOKS_PBX_USERNAME" in line
    assert "hunter2pass" not in line


def test_readyz_and_the_log_say_which_pbx_the_app_registers_on(tmp_path: Path) -> None:
    (tmp_path / "opsapp.py").write_text(APP)
    port = free_port()
    base = {k: v for k, v in os.environ.items() if not k.startswith("IVRHOOKS_")}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ivrhooks",
            "run",
            "opsapp.py",
            "--port",
            str(port),
            "--pbx-port",
            str(free_port()),
        ],
        cwd=tmp_path,
        env=base,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:  # a bounded poll: the server starts in another process
            try:
                ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1)
                if ready.status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline and proc.poll() is None, "not ready"
            time.sleep(0.1)
    finally:
        proc.terminate()
        _, logs = proc.communicate(timeout=15)
    assert ready.json() == {"status": "ready", "pbx": "embedded"}
    lines = [json.loads(line) for line in logs.splitlines()]  # every line is JSON
    events = [line["event"] for line in lines]
    assert "registering on the PBX: embedded" in events
    assert any(e.startswith("registration in sync on embedded:") for e in events)
