"""The mistakes of moving from a laptop to a deployment, as a person meets them: each is one
line naming the variable (and the value tried), from a real process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.cli.processes import fake_pbx_process
from tests.ports import refused_port, spare_port

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
    if args[0] == "run":
        # Were the embedded PBX and its dev page started after all, never on their fixed
        # default ports (8887, 8888), which another test or process may hold.
        args = (*args, "--pbx-port", str(spare_port()), "--ui-port", "0")
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
    with refused_port() as port:  # held while the command runs: nothing else can listen there
        url = f"http://127.0.0.1:{port}/api"
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
    message naming the URL: it is refused, and the refusal shows the URL without its login."""
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
    assert "IVRHOOKS_PBX_URL='https://***@pbx.example.com:8887/api'" in line
    assert "must not carry a login" in line and "IVRHOOKS_PBX_USERNAME" in line
    assert "hunter2pass" not in line


def _ready(tmp_path: Path, *args: str, **env: str) -> tuple[dict[str, object], list[str]]:
    """``ivrhooks run opsapp.py ARGS`` until /readyz answers 200: its body, and the events of
    the log lines the process wrote (every one JSON) by the time it was stopped."""
    (tmp_path / "opsapp.py").write_text(APP)
    port = spare_port()
    base = {k: v for k, v in os.environ.items() if not k.startswith("IVRHOOKS_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "ivrhooks", "run", "opsapp.py", "--port", str(port), *args],
        cwd=tmp_path,
        env={**base, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    ready = None
    try:
        deadline = time.monotonic() + 30
        # A bounded poll: the server starts in another process.
        while ready is None and time.monotonic() < deadline and proc.poll() is None:
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1)
                ready = answer.json() if answer.status_code == 200 else None
            except httpx.TransportError:
                pass
            time.sleep(0.1)
    finally:
        proc.terminate()
        _, logs = proc.communicate(timeout=15)
    assert ready is not None, f"not ready (exit {proc.returncode}): {logs}"
    events = [json.loads(line)["event"] for line in logs.splitlines()]  # every line is JSON
    return ready, events


def test_readyz_and_the_log_say_which_pbx_the_app_registers_on(tmp_path: Path) -> None:
    # The embedded PBX's dev page on any free port: its default, 8888, may be taken.
    ready, events = _ready(tmp_path, "--pbx-port", str(spare_port()), "--ui-port", "0")
    assert ready == {"status": "ready", "pbx": "embedded"}
    assert "registering on the PBX: embedded" in events
    assert any(e.startswith("registration in sync on embedded:") for e in events)


@pytest.fixture
def real_pbx() -> Iterator[str]:
    """A fake PBX in a process of its own, reached as a real one would be: its REST URL."""
    with fake_pbx_process("8000:Main") as url:
        yield url


def test_readyz_and_the_log_name_a_real_pbx_by_its_host_and_port(
    tmp_path: Path, real_pbx: str
) -> None:
    where = urlsplit(real_pbx).netloc  # 127.0.0.1:PORT
    ready, events = _ready(
        tmp_path,
        IVRHOOKS_PBX_URL=real_pbx,
        IVRHOOKS_PBX_USERNAME="admin",
        IVRHOOKS_PBX_PASSWORD="fakepbx",
        IVRHOOKS_SECRET=SECRET,
        IVRHOOKS_PUBLIC_URL="https://ivr.example.com",
    )
    assert ready == {"status": "ready", "pbx": where}
    assert f"registering on the PBX: {where}" in events
    assert any(e.startswith(f"registration in sync on {where}: 1 created") for e in events)
    assert not any("embedded" in e for e in events), "no fake PBX was started beside it"


def test_readyz_and_the_log_say_none_when_the_app_registers_nowhere(tmp_path: Path) -> None:
    ready, events = _ready(tmp_path, IVRHOOKS_REGISTER="false", IVRHOOKS_SECRET=SECRET)
    assert ready == {"status": "ready", "pbx": "none"}
    assert "IVRHOOKS_REGISTER=false: serving only, registering on no PBX" in events
    assert not any(e.startswith(("registering on the PBX", "registration in sync")) for e in events)
