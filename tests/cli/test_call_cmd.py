"""``ivrhooks call`` places a call through a running fake PBX into a running app."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from click.testing import CliRunner, Result

from ivrhooks import ActionRequest, IVRHooks, call
from ivrhooks.cli import main
from ivrhooks.fakepbx import FakePBX
from ivrhooks.pbx import PBXClient
from ivrhooks.testing import free_port, serve

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
    result = await invoke("--to", "8000", "--pbx", f"http://127.0.0.1:{free_port()}")
    assert result.exit_code == 1
    assert "no fake PBX answers" in result.output
