"""``ivrhooks fake-pbx``: option checking in-process, and real processes (a SQLite file, the
guard and where calls may go)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from ivrhooks.cli import main
from ivrhooks.cli.fake_pbx import build
from ivrhooks.fakepbx import DEFAULT_PASSWORD
from ivrhooks.pbx import PBXClient
from ivrhooks.pbx.generations import Generation
from tests.fakepbx.conftest import Receiver


@pytest.mark.parametrize("value", ["8000", "80:Main", "8000:", "abcd:Main", f"8000:{'n' * 65}"])
def test_bad_ivr_option_is_named(value: str) -> None:
    result = CliRunner().invoke(main, ["fake-pbx", "--ivr", value])
    assert result.exit_code == 2
    assert "--ivr" in result.output and "EXTENSION:NAME" in result.output


def test_help_lists_the_options() -> None:
    result = CliRunner().invoke(main, ["fake-pbx", "--help"])
    assert result.exit_code == 0
    for option in (
        "--host",
        "--port",
        "--ivr",
        "--username",
        "--password",
        "--db",
        "--login-generation",
        "--role",
    ):
        assert option in result.output


def test_an_unknown_login_generation_is_refused() -> None:
    result = CliRunner().invoke(main, ["fake-pbx", "--login-generation", "saml"])
    assert result.exit_code == 2
    assert "--login-generation" in result.output


def test_build_keeps_receptionists_already_in_the_db(tmp_path: Path) -> None:
    db = str(tmp_path / "pbx.sqlite")
    first = build([("8000", "Main")], username="u", password="p", db=db, token_ttl=60)
    ivr_id = first.ivr("8000").id
    first.close()
    again = build(
        [("8000", "Renamed"), ("8001", "Sales")], username="u", password="p", db=db, token_ttl=60
    )
    assert (again.ivrs()[0].id, again.ivrs()[0].name) == (ivr_id, "Main")
    assert [i.extension_number for i in again.ivrs()] == ["8000", "8001"]
    assert len(again.store.ivr_servers) == 1  # the INTERNAL server is not created twice
    again.close()


@contextlib.asynccontextmanager
async def running(*args: str) -> AsyncIterator[list[str]]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "ivrhooks",
        "fake-pbx",
        "--port",
        "0",
        *args,
        stdout=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None
    try:
        lines = [(await asyncio.wait_for(proc.stdout.readline(), 20)).decode().strip()]
        lines.append((await proc.stdout.readline()).decode().strip())
        lines.append((await proc.stdout.readline()).decode().strip())
        yield lines
    finally:
        proc.terminate()
        await proc.wait()


async def test_a_real_process_serves_and_keeps_state(tmp_path: Path) -> None:
    db = str(tmp_path / "dev.sqlite")
    async with running("--ivr", "8000:Main", "--db", db) as lines:
        assert lines[0].startswith("fake PBX REST API: http://127.0.0.1:")
        # A password generated for this process, printed: not the documented default.
        assert lines[1].startswith("login: username=admin password=")
        generated = lines[1].rpartition("=")[2]
        assert generated != DEFAULT_PASSWORD and len(generated) >= 16
        assert lines[2].startswith("login endpoints: POST /auth/sign_in (PortSIP v22.2+), ")
        api = lines[0].split(": ", 1)[1]
        async with PBXClient(api, username="admin", password=generated) as pbx:
            [ivr] = [i async for i in pbx.ivrs.list()]
            await pbx.action_urls.create(
                ivr.id, name="menu", enabled=True, dtmf_mask="1", url="http://127.0.0.1:9/x"
            )
    async with running("--db", db, "--password", "chosen1") as lines:
        assert lines[1] == "login: username=admin password=(as given with --password)"
        api = lines[0].split(": ", 1)[1]
        async with PBXClient(api, username="admin", password="chosen1") as pbx:
            [ivr] = [i async for i in pbx.ivrs.list()]
            [url] = await pbx.action_urls.list(ivr.id)
    assert (ivr.extension_number, url.name, url.enabled) == ("8000", "menu", True)


async def test_a_real_process_serves_only_the_login_generation_asked_for() -> None:
    args = ("--login-generation", "login", "--ivr", "8000:Main", "--password", "chosen1")
    async with running(*args) as lines:
        assert lines[2] == "login endpoints: POST /login (the OpenAPI documents' login)"
        api = lines[0].split(": ", 1)[1]
        async with PBXClient(api, username="admin", password="chosen1") as pbx:
            [ivr] = [i async for i in pbx.ivrs.list()]
            assert pbx.tokens.generation is Generation.LOGIN
    assert ivr.extension_number == "8000"


def test_a_target_that_is_not_an_http_url_is_named() -> None:
    result = CliRunner().invoke(main, ["fake-pbx", "--allow-target", "ftp://lb:21"])
    assert result.exit_code == 2
    assert "--allow-target" in result.output and "not an http(s) URL" in result.output


async def test_a_real_process_answers_loopback_json_and_calls_loopback_only(
    receiver: Receiver,
) -> None:
    """What the embedded PBX refuses, ``ivrhooks fake-pbx`` refuses too; ``--allow-host`` names
    a host it is reached by besides loopback (a container's service name)."""
    async with running("--ivr", "8000:Main", "--allow-host", "pbx") as lines:
        api = lines[0].split(": ", 1)[1]
        password = lines[1].rpartition("=")[2]
        base = api.removesuffix("/api")
        port = httpx.URL(base).port
        async with httpx.AsyncClient(base_url=base) as http:
            hosts = {
                host: (await http.get("/_fake/stats", headers={"host": host})).status_code
                for host in ("evil.example", f"pbx:{port}", "localhost", "pbx.evil.example")
            }
            body = json.dumps({"to": "8000", "caller": "101", "digits": "1"})
            plain = await http.post(
                "/_fake/dial", content=body, headers={"content-type": "text/plain"}
            )
            async with PBXClient(api, username="admin", password=password) as pbx:
                [ivr] = [i async for i in pbx.ivrs.list()]
                for mask, url in (("1", receiver.url + "/hook/open"), ("2", OUTSIDE)):
                    await pbx.action_urls.create(
                        ivr.id, name=f"to-{mask}", enabled=True, dtmf_mask=mask, url=url
                    )
            here, there = [
                (await http.post("/_fake/dial", json={"to": "8000", "caller": "101", "digits": d}))
                for d in ("1", "2")
            ]
    assert hosts == {
        "evil.example": 403,
        f"pbx:{port}": 200,
        "localhost": 200,
        "pbx.evil.example": 403,
    }
    assert plain.status_code == 415
    assert here.json()["decision"]["destination"] == "222"
    assert [hit["path"] for hit in receiver.hits] == ["/hook/open"]  # the loopback one only
    assert there.json()["error"] == (
        "not sent: http://192.0.2.1:9 is outside where this fake PBX sends calls (loopback "
        "addresses); pass --allow-target URL or --allow-any-target to `ivrhooks fake-pbx`"
    )


OUTSIDE = "http://192.0.2.1:9/hook"  # TEST-NET-1 (RFC 5737): no such host is ever reachable
