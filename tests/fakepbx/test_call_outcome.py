"""``ivrhooks call`` says how the call ended when the fake PBX sends events for it: the fake
decides the outcome at once and answers it from ``/_fake/dial``; the events follow."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner, Result

from ivrhooks.cli import main
from ivrhooks.testing import serve
from tests.cli.test_run import ROOT, wait_ready
from tests.events.receiver import fake_pbx, receiving
from tests.ports import spare_port


async def invoke(*args: str) -> Result:
    # The command is synchronous; run it in a thread so the servers in this loop can answer.
    return await asyncio.to_thread(CliRunner().invoke, main, ["call", *args])


@pytest.mark.parametrize(
    ("digits", "outcome"),
    [
        ("1", "outcome: answered by 2001 after 0.0 s"),
        ("2", "outcome: fail at 2002 (busy, SIP 486)"),
        ("3", "outcome: fail at 2003 (offline, SIP 480)"),
        ("4", "outcome: noanswer from 2004 after 0.0 s"),
        ("5", "outcome: ended at receptionist 8000 (callee_disconnected)"),
        ("9", "outcome: ended at receptionist 8000 (caller_disconnected)"),
    ],
)
async def test_call_prints_how_the_call_ended(digits: str, outcome: str) -> None:
    async with receiving() as receiver:
        pbx = fake_pbx(receiver)
        pbx.set_event_url("cdr", receiver.url + "/events/cdr")
        async with serve(pbx.app) as base:
            result = await invoke("--to", "8000", "--digits", digits, "--pbx", base)
            await pbx.events_sent()
    assert result.exit_code == 0, result.output
    *_, last = result.output.splitlines()
    assert last == outcome
    assert receiver.bodies()[-1]["event_type"] == "call_cdr"


async def test_no_event_url_no_outcome_line() -> None:
    async with receiving() as receiver:
        pbx = fake_pbx(receiver)
        async with serve(pbx.app) as base:
            result = await invoke("--to", "8000", "--digits", "1", "--pbx", base)
            as_json = await invoke("--to", "8000", "--digits", "1", "--pbx", base, "--json")
    assert result.exit_code == 0 and "outcome" not in result.output
    assert result.output.startswith("decision: call 2001  (handler: decide, HTTP 200, ")
    assert "call_outcome" not in as_json.output


APP = """
from ivrhooks import IVRHooks, call

app = IVRHooks(receptionists=["8000"], auth="digest")

@app.dtmf("1")
async def sales(req):
    return call("2001")
"""
PBX_PASSWORD = "outcome-test-login-42"


async def _cli_call(*args: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "ivrhooks", "call", *args),
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if not k.startswith("IVRHOOKS_")},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode()


async def test_ivrhooks_call_against_ivrhooks_run_prints_the_outcome(tmp_path: Path) -> None:
    """A real `ivrhooks run` with its embedded fake PBX points the tenant's event URLs at itself
    through the PBX's REST API (with the app's Digest credentials), so `ivrhooks call` prints
    how the call ended."""
    (tmp_path / "app.py").write_text(APP)
    port, pbx_port = spare_port(), spare_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("IVRHOOKS_")}
    cmd = [sys.executable, "-m", "ivrhooks", "run", "app.py", "--no-ui", "--port", str(port)]
    cmd += ["--pbx-port", str(pbx_port), "--pbx-password", PBX_PASSWORD]
    app = await asyncio.create_subprocess_exec(
        *cmd, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    pbx = f"http://127.0.0.1:{pbx_port}"
    try:
        await wait_ready(f"http://127.0.0.1:{port}/readyz", app)
        async with httpx.AsyncClient(base_url=pbx + "/api/") as http:
            login = {"username": "admin", "password": PBX_PASSWORD}
            token = (await http.post("auth/sign_in", json=login)).json()["access_token"]
            tenant = (await http.get("tenant", headers={"Authorization": f"Bearer {token}"})).json()
        code, output = await _cli_call("--to", "8000", "--digits", "1", "--pbx", pbx)
    finally:
        app.terminate()
        await asyncio.wait_for(app.communicate(), 15)

    for field, path in (("cdr_event", "/events/cdr"), ("extension_event", "/events/extension")):
        assert tenant[field]["enabled"] is True
        assert tenant[field]["auth"] == "DIGEST"
        assert tenant[field]["url"] == f"http://127.0.0.1:{port}{path}"
    assert code == 0, output
    decision, outcome = output.splitlines()
    assert decision.startswith("decision: call 2001  (handler: sales, HTTP 200, "), output
    assert outcome == "outcome: answered by 2001 after 0.0 s"
