"""``ivrhooks plan`` and ``ivrhooks doctor`` show the tenant's event URLs beside what the app
needs, never a credential; with IVRHOOKS_REGISTER_EVENTS=true an unset one is a pending change
(``plan`` exits 2) and ``sync`` writes it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ivrhooks.core.auth import derive_credentials
from ivrhooks.testing import FakePBX, serve
from tests.cli.test_registration_cmds import invoke

APP = """
from ivrhooks import IVRHooks, call

app = IVRHooks(receptionists=["8000"])

@app.dtmf("1")
async def sales(req):
    return call("2001")
"""
SECRET = "cli-event-url-secret-0123456789abcdef"
FOREIGN = "https://crm.example.net/hook?token=never-printed"


@pytest.fixture
def app_file(tmp_path: Path) -> str:
    path = tmp_path / "evapp.py"
    path.write_text(APP)
    return str(path)


def _env(base: str, fake: FakePBX, **extra: str) -> dict[str, str]:
    return {
        "IVRHOOKS_PBX_URL": base + "/api",
        "IVRHOOKS_PBX_USERNAME": fake.username,
        "IVRHOOKS_PBX_PASSWORD": fake.password,
        "IVRHOOKS_SECRET": SECRET,
        "IVRHOOKS_PUBLIC_URL": "https://ivr.example.com",
        **extra,
    }


async def test_plan_and_sync_with_register_events(app_file: str) -> None:
    fake = FakePBX()
    fake.add_ivr("8000", "Main")
    fake.set_event_url("extension", FOREIGN)
    async with serve(fake.app) as base:
        env = _env(base, fake, IVRHOOKS_REGISTER_EVENTS="true")
        pending = await invoke(["plan", "--json", app_file], env)
        assert pending.exit_code == 2, pending.output
        shown = json.loads(pending.output)
        verdicts = {e["field"]: e["verdict"] for e in shown["event_urls"]}
        assert verdicts == {"cdr_event": "write", "extension_event": "foreign"}
        assert "never-printed" not in pending.output

        await invoke(["sync", app_file], env)
        again = await invoke(["plan", app_file], env)
        assert "cdr_event: https://ivr.example.com/events/cdr (enabled, BASIC)" in again.output
        assert "extension_event: https://crm.example.net/hook (enabled" in again.output
        assert again.exit_code == 0, again.output  # a foreign URL is not this app's to change
    assert fake.tenant["extension_event"]["url"] == FOREIGN
    password = derive_credentials(SECRET, "events-cdr").password
    assert fake.tenant["cdr_event"]["password"] == password
    assert password not in again.output and password not in pending.output


async def test_plan_without_register_events_says_how_to_receive_them(app_file: str) -> None:
    fake = FakePBX()
    fake.add_ivr("8000", "Main")
    async with serve(fake.app) as base:
        env = _env(base, fake)
        await invoke(["sync", app_file], env)
        result = await invoke(["plan", app_file], env)
    assert result.exit_code == 0, result.output  # not asked to register them: nothing pending
    assert "IVRHOOKS_REGISTER_EVENTS is false" in result.output
    assert "https://ivr.example.com/events/cdr" in result.output
    assert fake.tenant["cdr_event"]["enabled"] is False


async def test_doctor_warns_of_a_foreign_event_url_when_asked_to_register(app_file: str) -> None:
    fake = FakePBX()
    fake.add_ivr("8000", "Main")
    fake.set_event_url("cdr", FOREIGN)
    async with serve(fake.app) as base:
        result = await invoke(["doctor", app_file], _env(base, fake, IVRHOOKS_REGISTER_EVENTS="1"))
    lines = [line for line in result.output.splitlines() if "events" in line.split()[1:2]]
    assert any(line.startswith("warn") and "cdr_event" in line for line in lines), result.output
    assert any(line.startswith("info") and "extension_event" in line for line in lines)
    assert "never-printed" not in result.output
    assert fake.tenant["cdr_event"]["url"] == FOREIGN, "doctor writes nothing"
