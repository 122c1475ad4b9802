"""``ivrhooks call`` places a call through a running fake PBX into a running app; with several
``--digits`` (a real process against ``ivrhooks run examples/account_pin.py``), one line per hop
of one call."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner, Result
from crm_service import create_app as create_crm

from ivrhooks import ActionRequest, IVRHooks, call
from ivrhooks.cli import main
from ivrhooks.fakepbx import FakePBX
from ivrhooks.fakepbx.embedded import embedded_pbx
from ivrhooks.pbx import PBXClient
from ivrhooks.testing import serve
from tests.cli.test_run import ROOT, wait_ready
from tests.ports import refused_port, spare_port

SECRET = "call-command-secret-0123"


async def invoke(*args: str) -> Result:
    # The command is synchronous; run it in a thread so the servers in this loop can answer.
    return await asyncio.to_thread(CliRunner().invoke, main, ["call", *args])


@pytest.fixture
async def pbx_url() -> AsyncIterator[str]:
    app = IVRHooks(receptionists=["8000"], secret=SECRET, env=False)

    @app.dtmf("1")
    async def sales(req: ActionRequest) -> object:
        return call("2001")

    pbx = FakePBX()
    ivr_id = pbx.add_ivr("8000", "Main")
    async with serve(app) as app_url, serve(pbx.app) as base:
        creds = app.credentials_for(app.routes[0])
        assert creds is not None
        async with PBXClient(base + "/api", username=pbx.username, password=pbx.password) as c:
            await c.action_urls.create(
                ivr_id,
                name="ivrhooks:sales",
                enabled=True,
                type="DTMF",
                dtmf_mask="1",
                method="POST",
                url=app_url + "/hooks/sales",
                auth="BASIC",
                username=creds.username,
                password=creds.password,
            )
        yield base


async def test_call_prints_the_decision_handler_and_latency(pbx_url: str) -> None:
    result = await invoke("--to", "8000", "--caller", "101", "--digits", "1", "--pbx", pbx_url)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("decision: call 2001  (handler: sales, HTTP 200, ")
    assert result.output.rstrip().endswith(" ms)")


async def test_no_matching_route_is_the_normal_outcome_it_is(pbx_url: str) -> None:
    result = await invoke("--to", "8000", "--digits", "7", "--pbx", pbx_url + "/api")
    assert result.exit_code == 0, "the receptionist's own menu takes the call: not an error"
    assert result.output.startswith("no route matches caller '101' / digits '7' on receptionist")
    assert "own menu" in result.output


async def test_call_to_an_unknown_receptionist(pbx_url: str) -> None:
    result = await invoke("--to", "9999", "--digits", "1", "--pbx", pbx_url)
    assert result.exit_code == 1
    assert "no receptionist with extension 9999" in result.output


async def test_call_says_when_no_pbx_answers() -> None:
    with refused_port() as port:
        result = await invoke("--to", "8000", "--pbx", f"http://127.0.0.1:{port}")
    assert result.exit_code == 1
    assert "no fake PBX answers" in result.output


ACCOUNT_PIN = ROOT / "examples" / "account_pin.py"
HOP = (
    r"(?P<n>\d)\. receptionist (?P<to>\d+) keys '(?P<keys>\d+)': decision: (?P<decision>[^(]+?)"
    r"  \(handler: (?P<route>\w+), HTTP 200, (?P<ms>\d+\.\d) ms\)"
)


async def test_call_goes_through_the_guard_and_names_a_refusal() -> None:
    """The fake PBX as `ivrhooks run` serves it (behind ivrhooks/fakepbx/guard.py): a call
    posted by `ivrhooks call` is answered; reached under another name (here through an HTTP
    proxy, as a shell with HTTP_PROXY set would), the refusal says why."""
    async with embedded_pbx(["8000"]) as pbx:
        assert pbx.url is not None
        placed = await invoke("--to", "8000", "--digits", "1", "--pbx", pbx.url)
        elsewhere = f"http://pbx.test:{httpx.URL(pbx.url).port}"
        proxied = await asyncio.to_thread(
            CliRunner().invoke,
            main,
            ["call", "--to", "8000", "--pbx", elsewhere],
            env={"HTTP_PROXY": pbx.url, "NO_PROXY": "", "no_proxy": "", "http_proxy": pbx.url},
        )
    assert placed.exit_code == 0 and placed.output.startswith("no route matches caller '101'")
    assert proxied.exit_code == 1
    assert f"Error: {elsewhere} refused the call: the fake PBX answers to Host " in proxied.output
    assert "--allow-host NAME" in proxied.output


async def _cli_call(*args: str) -> tuple[int, str]:
    """``ivrhooks call`` as a person runs it: a process of its own."""
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


async def test_call_with_several_digits_follows_the_call_across_receptionists(
    tmp_path: Path,
) -> None:
    # examples/account_pin.py under `ivrhooks run` with its embedded fake PBX, the CRM beside it;
    # `ivrhooks call --digits A --digits B` prints one line per hop, all of one call.
    port, pbx_port = spare_port(), spare_port()
    async with serve(create_crm(tmp_path / "crm.sqlite3")) as crm_url:
        env = {k: v for k, v in os.environ.items() if not k.startswith("IVRHOOKS_")}
        env["CRM_URL"] = crm_url
        cmd = [sys.executable, "-m", "ivrhooks", "run", str(ACCOUNT_PIN), "--no-ui"]
        cmd += ["--port", str(port), "--pbx-port", str(pbx_port), "--log-level", "info"]
        app = await asyncio.create_subprocess_exec(
            *cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        try:
            await wait_ready(f"http://127.0.0.1:{port}/readyz", app)
            pbx = f"http://127.0.0.1:{pbx_port}"
            base = ["--to", "8000", "--caller", "101", "--pbx", pbx]
            unknown = await _cli_call(*base, "--digits", "12345", "--digits", "9876")
            right = await _cli_call(*base, "--digits", "31234", "--digits", "2468")
        finally:
            app.terminate()
            _, raw_log = await asyncio.wait_for(app.communicate(), 15)

    calls = []
    for (code, output), expected in [
        # Account 12345 is not in the CRM: the PIN prompt again. Had the PIN handler not found
        # the account in the call's session, it would have sent the caller back to 8000.
        (unknown, [("8000", "12345", "call 8001", "account"), ("8001", "9876", "repeat", "pin")]),
        (right, [("8000", "31234", "call 8001", "account"), ("8001", "2468", "call 2001", "pin")]),
    ]:
        assert code == 0, output
        # `ivrhooks run` points the fake PBX's event URLs at the app: how the call ended comes
        # last, from its CDR events.
        *hops, last, outcome = output.splitlines()
        assert outcome.startswith("outcome: "), output
        matched = [re.fullmatch(HOP, line) for line in hops]
        assert all(matched), output
        got = [(m["n"], m["to"], m["keys"], m["decision"], m["route"]) for m in matched if m]
        assert got == [(str(n), *hop) for n, hop in enumerate(expected, start=1)], output
        assert all(0 < float(m["ms"]) < 1500 for m in matched if m), output
        session = re.fullmatch(r"session (\d+): 2 hops", last)
        assert session is not None, output
        calls.append(session[1])
    assert calls[0] != calls[1], "two calls, two sessions"

    # The app saw each call's two requests under the one session id the command printed.
    lines = [json.loads(line) for line in raw_log.decode().splitlines() if line.startswith("{")]
    requests = [line for line in lines if line.get("event") == "request"]
    for session_id, pin in zip(calls, ["repeat", "call"], strict=True):
        seen = [
            (r["receptionist"], r["route"], r["action"])
            for r in requests
            if r["session_id"] == session_id
        ]
        assert seen == [("8000", "account", "call"), ("8001", "pin", pin)], requests
