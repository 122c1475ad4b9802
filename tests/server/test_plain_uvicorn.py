"""``uvicorn module:app`` keeps the logging promises ``ivrhooks run`` makes: one JSON line per
request with the caller number masked, and no query strings (caller numbers, keyed digits) in
uvicorn's access log. A real uvicorn process with its default logging configuration."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from ivrhooks.core.auth import derive_credentials
from tests.ports import spare_port

SECRET = "plain-uvicorn-secret-0123456789"
APP = """
from ivrhooks import IVRHooks, RegistrationConfig, call
# A GET action URL: the fields (the caller's number among them) travel in the query string.
app = IVRHooks(receptionists=["8000"], registration=RegistrationConfig(method="GET"))

@app.dtmf("1")
async def sales(req):
    return call("2001")
"""


def test_uvicorn_with_its_own_defaults_writes_json_lines_and_no_query_strings(
    tmp_path: Path,
) -> None:
    (tmp_path / "plainapp.py").write_text(APP)
    port = spare_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("IVRHOOKS_")}
    # Serving only: registration is the operator's business here (the action URL exists).
    env.update(IVRHOOKS_SECRET=SECRET, IVRHOOKS_REGISTER="false")
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "plainapp:app", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    creds = derive_credentials(SECRET, "sales")
    try:
        deadline = time.monotonic() + 30
        while True:  # a bounded poll: the server starts in another process
            try:
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "uvicorn did not start"
                time.sleep(0.1)
        answer = httpx.get(
            f"http://127.0.0.1:{port}/hooks/sales",
            params={"from": "5551234567", "to": "8000", "input": "1", "session_id": "42"},
            auth=(creds.username, creds.password),
        )
    finally:
        proc.terminate()
        output, _ = proc.communicate(timeout=15)
    assert answer.json()["destination"] == "2001"
    assert "5551234567" not in output, output
    assert "input=1" not in output and "from=" not in output, output
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    (request,) = [line for line in lines if line.get("event") == "request"]
    assert request["route"] == "sales" and request["caller"] == "55******67"
    assert request["session_id"] == "42" and request["destination"] == "2001"
    access = [line for line in output.splitlines() if "/hooks/sales" in line and "HTTP/1.1" in line]
    assert access and all("?" not in line for line in access), access
