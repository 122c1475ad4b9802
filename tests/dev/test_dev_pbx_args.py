"""``ivrhooks dev --pbx``'s options: what is refused before anything starts, and why; and the
environments of the ``run`` child (no PBX login, registers nothing) and of the registration
pass (the PBX and its login), which share the session's secret and public URL."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from ivrhooks.cli import main
from ivrhooks.cli.dev_session import DEV_TTL, RENEW_EVERY, DevSession, session_env
from ivrhooks.cli.dev_tunnel import origin_in
from ivrhooks.conf.config import PBXConfig
from tests.dev.session import dev_env, fresh_receptionists, running_dev
from tests.ports import refused_port, spare_port

LOGIN = {"IVRHOOKS_PBX_USERNAME": "admin", "IVRHOOKS_PBX_PASSWORD": "pw"}
CLEAR = {name: None for name in ("IVRHOOKS_PBX_TOKEN", "IVRHOOKS_PUBLIC_URL", "IVRHOOKS_PBX_URL")}
PBX = "https://pbx.example.com:8887/api"


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--receptionist", "8999"], LOGIN, "Invalid value for --receptionist: only with --pbx"),
        (["--tunnel-cmd", "x"], LOGIN, "Invalid value for --tunnel-cmd: only with --pbx"),
        (["--force"], LOGIN, "Invalid value for --force: only with --pbx"),
        (["--pbx", PBX], LOGIN, "--pbx: name the receptionist(s)"),
        (
            ["--pbx", PBX, "--receptionist", "8999", "--public-url", "https://dev.example"],
            {"IVRHOOKS_PBX_USERNAME": None, "IVRHOOKS_PBX_PASSWORD": None},
            "needs a login: set IVRHOOKS_PBX_USERNAME and IVRHOOKS_PBX_PASSWORD",
        ),
        (
            ["--pbx", PBX, "--receptionist", "8999"],
            LOGIN,
            "the PBX must reach this app: pass --public-url URL (or set IVRHOOKS_PUBLIC_URL)",
        ),
        (
            [
                "--pbx",
                PBX,
                "--receptionist",
                "8999",
                "--public-url",
                "https://a",
                "--tunnel-cmd",
                "x",
            ],
            LOGIN,
            "--public-url and --tunnel-cmd: give one",
        ),
        (
            ["--pbx", PBX, "--receptionist", "8999", "--public-url", "ivr.example.com"],
            LOGIN,
            "Invalid value for --public-url: 'ivr.example.com' is not the http(s) URL",
        ),
        (
            ["--pbx", "pbx.example.com", "--receptionist", "8999", "--public-url", "https://a"],
            LOGIN,
            "Invalid value for --pbx: must start with http:// or https://",
        ),
        (
            ["--pbx", PBX, "--receptionist", "12", "--public-url", "https://a"],
            LOGIN,
            "Invalid value for --receptionist: give one extension number",
        ),
        (
            ["--pbx", PBX, "--receptionist", "8999", "--public-url", "https://a", "--to", "8000"],
            LOGIN,
            "Invalid value for --to: with --pbx, calls come from the PBX",
        ),
    ],
    ids=[
        "receptionist-alone",
        "tunnel-alone",
        "force-alone",
        "no-receptionist",
        "no-login",
        "no-public-url",
        "url-and-tunnel",
        "bad-public-url",
        "bad-pbx-url",
        "bad-receptionist",
        "to-with-pbx",
    ],
)
def test_bad_pbx_options_fail_before_anything_starts(
    tmp_path: Path, args: list[str], env: dict[str, str | None], message: str
) -> None:
    app = tmp_path / "app.py"
    app.write_text("")
    result = CliRunner().invoke(main, ["dev", str(app), *args], env={**CLEAR, **env})
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split())


def test_the_child_gets_no_pbx_login_and_registers_nothing_the_pass_gets_both() -> None:
    shell = {
        "PATH": "/bin",
        "IVRHOOKS_PBX_URL": "https://production-pbx.example/api",
        "IVRHOOKS_PBX_PASSWORD": "pw",
        "IVRHOOKS_PUBLIC_URL": "https://production.example",
        "IVRHOOKS_EMBEDDED_PBX": "true",
        "IVRHOOKS_DEADLINE": "1.5",
    }
    pbx = PBXConfig(PBX, username="dev", password="dev-pw")
    child, passing = session_env(shell, public_url="https://dev.example", pbx=pbx)
    secret = child.pop("IVRHOOKS_SECRET")
    assert child == {
        "PATH": "/bin",
        "IVRHOOKS_DEADLINE": "1.5",
        "IVRHOOKS_PUBLIC_URL": "https://dev.example",
        "IVRHOOKS_REGISTER": "false",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    assert passing == {
        "PATH": "/bin",
        "IVRHOOKS_DEADLINE": "1.5",
        "IVRHOOKS_PUBLIC_URL": "https://dev.example",
        "IVRHOOKS_SECRET": secret,
        "IVRHOOKS_PBX_URL": PBX,
        "IVRHOOKS_PBX_USERNAME": "dev",
        "IVRHOOKS_PBX_PASSWORD": "dev-pw",
        "PYTHONDONTWRITEBYTECODE": "1",
    }


@pytest.mark.parametrize(
    ("line", "url"),
    [
        ("your url is https://abc.trycloudflare.com", "https://abc.trycloudflare.com"),
        ("|  https://abc.trycloudflare.com       |", "https://abc.trycloudflare.com"),
        ("url=https://x.ngrok-free.app/ addr=http://localhost:8080", "https://x.ngrok-free.app"),
        ("https://host.example:8443.", "https://host.example:8443"),
        ("docs: https://developers.cloudflare.com/cloudflare-one/connections", None),
        ("http://plain.example is not https", None),
        ("https://?q=1", None),
    ],
)
def test_the_tunnels_url_is_the_first_https_origin_it_prints(line: str, url: str | None) -> None:
    assert origin_in(line) == url


SMALL_APP = """
from ivrhooks import IVRHooks, call

app = IVRHooks(receptionists=["8999"])

@app.dtmf("1")
async def sales(req):
    return call("2001")
"""


@pytest.mark.parametrize(
    ("receptionist", "message"),
    [
        ("8111", "Error: --receptionist 8111: the app serves no route there (it serves 8999)"),
        ("8999", "Error: cannot reach the PBX at http://127.0.0.1:{port}/api (--pbx): "),
    ],
    ids=["not-the-apps", "unreachable"],
)
async def test_a_session_that_cannot_register_ends_at_the_start_saying_why(
    tmp_path: Path, receptionist: str, message: str
) -> None:
    app = tmp_path / "devapp.py"
    app.write_text(SMALL_APP)
    port = spare_port()
    with refused_port() as nowhere:
        args = [str(app), "--pbx", f"http://127.0.0.1:{nowhere}/api"]
        args += ["--receptionist", receptionist, "--public-url", f"http://127.0.0.1:{port}"]
        async with running_dev([*args, "--port", str(port), "--no-ui"], dev_env()) as dev:
            rest = await asyncio.wait_for(dev.rest(), 60)
    assert dev.proc.returncode == 1, rest
    assert message.format(port=nowhere) in rest


async def test_a_refused_login_ends_the_session_at_the_start_naming_the_variables(
    tmp_path: Path, shared_pbx: str
) -> None:
    _, ext = fresh_receptionists()  # of this test's own, on the shared fake PBX (conftest.py)
    app = tmp_path / "devapp.py"
    app.write_text(SMALL_APP.replace('"8999"', f'"{ext}"'))
    port = spare_port()
    pbx = shared_pbx
    args = [str(app), "--pbx", pbx, "--receptionist", ext, "--no-ui", "--port", str(port)]
    args += ["--public-url", f"http://127.0.0.1:{port}"]
    async with running_dev(args, dev_env(IVRHOOKS_PBX_PASSWORD="not-the-password")) as dev:
        rest = await asyncio.wait_for(dev.rest(), 60)
    assert dev.proc.returncode == 1, rest
    assert f"Error: the PBX at {pbx} refused the login (IVRHOOKS_PBX_USERNAME" in rest
    assert "not-the-password" not in rest


async def test_a_reload_keeps_the_expiry_and_a_renewal_or_an_old_one_moves_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asked: list[int] = []

    async def registered(self: DevSession, expires: int) -> dict[str, Any]:
        asked.append(expires)
        counts = {"created": 0, "updated": 0, "deleted": 0}
        return {"app_id": "abc123", "entries": [], "removed": [], "warnings": [], **counts}

    monkeypatch.setattr(DevSession, "_pass", registered)
    now = [1_800_000_000.0]
    pbx = PBXConfig(PBX, token="t")
    session = DevSession("app.py", pbx, ("8999",), "https://d.example", {}, clock=lambda: now[0])
    await session.register(first=True)
    assert asked == [1_800_000_000 + DEV_TTL]
    now[0] += 60
    await session.register()  # a reload: the same expiry, so what did not change is not written
    assert asked[1] == asked[0]
    await session.register(renewal=True)
    assert asked[2] == 1_800_000_060 + DEV_TTL
    now[0] += RENEW_EVERY + 1  # a reload after a renewal's time (the renewal was late)
    await session.register()
    assert asked[3] == int(now[0]) + DEV_TTL
    assert session.app_ids == {"abc123"} and session.expires == asked[3]


SILENT_TUNNEL = """
import os, pathlib, sys, time
pathlib.Path(sys.argv[1]).write_text(str(os.getpid()))
print("starting, no URL yet", flush=True)
time.sleep(600)
"""


async def test_sigterm_while_the_tunnel_starts_stops_it(tmp_path: Path) -> None:
    app = tmp_path / "devapp.py"
    app.write_text(SMALL_APP)
    script, pid_file = tmp_path / "tunnel.py", tmp_path / "tunnel.pid"
    script.write_text(SILENT_TUNNEL)
    os.mkfifo(pid_file)
    with refused_port() as nowhere:
        args = [str(app), "--pbx", f"http://127.0.0.1:{nowhere}/api", "--receptionist", "8999"]
        args += ["--tunnel-cmd", f"{sys.executable} {script} {pid_file}", "--no-ui"]
        async with running_dev([*args, "--port", str(spare_port())], dev_env()) as dev:
            await dev.expect("starting the tunnel")
            # A FIFO: reading it waits until the tunnel has started and written its pid.
            pid = int(await asyncio.wait_for(asyncio.to_thread(pid_file.read_text), 30))
            dev.proc.send_signal(signal.SIGTERM)
            rest = await asyncio.wait_for(dev.rest(), 60)
            assert dev.proc.returncode == 0, rest
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


async def test_a_tunnel_that_exits_without_a_url_says_what_it_printed(tmp_path: Path) -> None:
    app = tmp_path / "devapp.py"
    app.write_text(SMALL_APP)
    with refused_port() as nowhere:
        args = [str(app), "--pbx", f"http://127.0.0.1:{nowhere}/api", "--receptionist", "8999"]
        tunnel = f"{sys.executable} -c \"print('no account: log in first'); raise SystemExit(3)\""
        args += ["--tunnel-cmd", tunnel, "--no-ui", "--port", str(spare_port())]
        async with running_dev(args, dev_env()) as dev:
            rest = await asyncio.wait_for(dev.rest(), 60)
    assert dev.proc.returncode == 1, rest
    assert "Error: --tunnel-cmd: " in rest
    assert "exited (code 3) without printing an https URL; its last output: no account" in rest
