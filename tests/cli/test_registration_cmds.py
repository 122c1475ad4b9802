"""``ivrhooks plan|sync|unregister`` in process (CliRunner) against a fake PBX on loopback."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from ivrhooks.cli import main
from ivrhooks.testing import FakePBX, serve

APP = """
from ivrhooks import IVRHooks, call

app = IVRHooks(receptionists=["8000"])

@app.dtmf("1;2")
async def sales(req):
    return call("2001")

@app.caller("5550100")
async def vip(req):
    return call("2003")
"""


@pytest.fixture
def app_file(tmp_path: Path) -> str:
    path = tmp_path / "regapp.py"
    path.write_text(APP)
    return str(path)


async def invoke(args: list[str], env: dict[str, str]) -> Result:
    # The command runs its own event loop; in a thread, so the fake PBX keeps serving here.
    return await asyncio.to_thread(CliRunner().invoke, main, args, env=env)


async def test_plan_sync_plan_unregister(app_file: str) -> None:
    fake = FakePBX()
    ivr = fake.add_ivr("8000", "Main")
    hand = {"name": "crm", "enabled": True, "type": "DTMF", "dtmf_mask": "7", "url": "http://x/y"}
    fake.resources.create_action_url(ivr, hand)
    async with serve(fake.app) as base:
        env = {
            "IVRHOOKS_PBX_URL": base + "/api",
            "IVRHOOKS_PBX_USERNAME": fake.username,
            "IVRHOOKS_PBX_PASSWORD": fake.password,
            "IVRHOOKS_SECRET": "cli-tests-secret-0123456789abcdef",
            "IVRHOOKS_PUBLIC_URL": "https://ivr.example.com",
        }
        pending = await invoke(["plan", app_file], env)
        assert pending.exit_code == 2, pending.output
        assert "+ create ivrhooks:sales" in pending.output
        assert fake.counters.writes == 0

        as_json = await invoke(["plan", "--json", app_file], env)
        assert as_json.exit_code == 2
        plan = json.loads(as_json.output)
        assert plan["in_sync"] is False
        creates = plan["receptionists"][0]["creates"]
        assert {c["name"].partition("@")[0] for c in creates} == {"ivrhooks:sales", "ivrhooks:vip"}
        assert all(c["password"] == "***" for c in creates)  # secrets masked

        synced = await invoke(["sync", app_file], env)
        assert synced.exit_code == 0, synced.output
        assert "2 created" in synced.output
        assert "***" not in synced.output and "password" not in synced.output

        clean = await invoke(["plan", app_file], env)
        assert clean.exit_code == 0, clean.output
        assert "in sync" in clean.output

        gone = await invoke(["unregister", app_file], env)
        assert gone.exit_code == 0, gone.output
        assert "deleted 2" in gone.output
    assert [u.name for u in fake.action_urls("8000")] == ["crm"]


def test_commands_need_a_pbx(app_file: str) -> None:
    for command in ("plan", "sync", "unregister"):
        result = CliRunner().invoke(main, [command, app_file], env={"IVRHOOKS_PBX_URL": None})
        assert result.exit_code == 1
        assert "IVRHOOKS_PBX_URL" in result.output


async def test_plan_without_public_url_says_so(app_file: str) -> None:
    env = {
        "IVRHOOKS_PBX_URL": "http://127.0.0.1:9/api",
        "IVRHOOKS_PBX_TOKEN": "t",
        "IVRHOOKS_SECRET": "cli-tests-secret-0123456789abcdef",
    }
    result = await invoke(["plan", app_file], env)
    assert result.exit_code == 1
    assert "IVRHOOKS_PUBLIC_URL" in result.output
