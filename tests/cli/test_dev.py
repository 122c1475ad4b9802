"""``ivrhooks dev``: the prompt's grammar, the child's environment, the loop as a person runs it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from ivrhooks.cli import main
from ivrhooks.cli.dev import child_env, watch_paths
from ivrhooks.cli.dev_prompt import (
    Command,
    Dial,
    Help,
    Nothing,
    PromptError,
    Quit,
    SwitchTo,
    parse_line,
)
from ivrhooks.testing import bind_socket
from tests.dev.session import DevProcess
from tests.ports import spare_port

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("line", "command"),
    [
        ("101 1\n", Dial("101", "1")),
        ("  101   12#  ", Dial("101", "12#")),
        ("5551234", Dial("5551234", "")),
        ("+4930123 *9", Dial("+4930123", "*9")),
        ("to 8001", SwitchTo("8001")),
        ("TO 8001", SwitchTo("8001")),
        ("help", Help()),
        ("?", Help()),
        ("quit", Quit()),
        ("exit", Quit()),
        ("q", Quit()),
        ("", Nothing()),
        ("   \n", Nothing()),
    ],
    ids=lambda v: repr(v) if isinstance(v, str) else type(v).__name__,
)
def test_parse_line(line: str, command: Command) -> None:
    assert parse_line(line) == command


def test_several_groups_of_digits_are_keyed_one_per_prompt() -> None:
    assert parse_line("101 3123 9876 #") == Dial("101", "3123", ("9876", "#"))


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("hepl", "caller: 'hepl' is not a number"),
        ("101a 1", "caller: '101a' is not a number"),
        ("101 1a", "digits: '1a' may hold only 0-9, * and #"),
        ("101 1 2x", "digits: '2x' may hold only 0-9, * and #"),
        ("to", "to: give one extension number"),
        ("to 12", "to: give one extension number"),
        ("to 8001 8002", "to: give one extension number"),
        ("to abc", "to: give one extension number"),
    ],
    ids=lambda v: v,
)
def test_parse_line_rejects(line: str, message: str) -> None:
    with pytest.raises(PromptError) as caught:
        parse_line(line)
    assert str(caught.value).startswith(message)


def test_child_env_drops_the_pbx_and_public_url_and_keeps_the_rest() -> None:
    environ = {
        "PATH": "/bin",
        "IVRHOOKS_PBX_URL": "https://pbx.example:8887",
        "IVRHOOKS_PBX_PASSWORD": "hunter2",
        "IVRHOOKS_PUBLIC_URL": "https://hooks.example",
        "IVRHOOKS_SECRET": "the-users-own-secret",
        "IVRHOOKS_DEADLINE": "2",
        "IVRHOOKS_PORT": "9999",
    }
    env, dropped = child_env(environ)
    assert dropped == [
        "IVRHOOKS_PBX_PASSWORD",
        "IVRHOOKS_PBX_URL",
        "IVRHOOKS_PORT",
        "IVRHOOKS_PUBLIC_URL",
    ]
    # The embedded PBX's login, chosen by dev so that it can list the receptionists there.
    assert len(env.pop("IVRHOOKS_EMBEDDED_PBX_PASSWORD")) >= 16
    assert env == {
        "PATH": "/bin",
        "IVRHOOKS_SECRET": "the-users-own-secret",
        "IVRHOOKS_DEADLINE": "2",
        "IVRHOOKS_EMBEDDED_PBX": "true",
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def test_child_env_gives_one_secret_for_the_session_when_none_is_set() -> None:
    env, dropped = child_env({"PATH": "/bin"})
    assert dropped == []
    assert len(env["IVRHOOKS_SECRET"]) >= 32


def test_child_env_keeps_an_embedded_pbx_password_the_user_chose() -> None:
    env, _ = child_env({"IVRHOOKS_EMBEDDED_PBX_PASSWORD": "my-own-fake-pbx-login"})
    assert env["IVRHOOKS_EMBEDDED_PBX_PASSWORD"] == "my-own-fake-pbx-login"
    one, other = (child_env({})[0]["IVRHOOKS_EMBEDDED_PBX_PASSWORD"] for _ in range(2))
    assert one != other, "generated per session"


def test_watch_paths(tmp_path: Path) -> None:
    (tmp_path / "myapp.py").write_text("")
    assert watch_paths(f"{tmp_path / 'myapp.py'}:app") == [tmp_path.resolve()]
    assert watch_paths("ivrhooks.cli.dev:app") == [ROOT / "ivrhooks"]
    with pytest.raises(click.BadParameter, match="no such file"):
        watch_paths(str(tmp_path / "missing.py"))
    with pytest.raises(click.BadParameter, match="no module named 'no_such_module_here'"):
        watch_paths("no_such_module_here:app")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["dev", "missing/app.py"], "no such file: missing/app.py"),
        (["dev", "app.py", "--to", "12"], "Invalid value for --to: give one extension number"),
    ],
    ids=["missing-app", "bad-to"],
)
def test_bad_arguments_fail_before_anything_starts(args: list[str], message: str) -> None:
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert message in result.output


APP = """
from ivrhooks import IVRHooks, call

app = IVRHooks(receptionists=["8000"], auth="digest")

@app.dtmf("1")
async def sales(req):
    return call("{destination}")
"""


async def test_dev_places_calls_reloads_on_change_and_survives_a_broken_edit(
    tmp_path: Path,
) -> None:
    app_file = tmp_path / "devapp.py"
    app_file.write_text(APP.format(destination="2001"))
    port, pbx_port = spare_port(), spare_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("IVRHOOKS_")}
    env["IVRHOOKS_PBX_URL"] = "http://127.0.0.1:9"  # dev must ignore it, and say so
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as on a developer's machine: dev must set it
    # No dev page: its default port (8888) may be taken, and a port asked for is let go at
    # every reload (tests/devui/test_browser.py drives the page under dev).
    cmd = [sys.executable, "-m", "ivrhooks", "dev", str(app_file), "--no-ui"]
    cmd += ["--port", str(port), "--pbx-port", str(pbx_port)]
    proc = await asyncio.create_subprocess_exec(
        *cmd,
        env=env,
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # one process group: the finally below ends the child too
    )
    session = DevProcess(proc)
    try:
        await session.expect("ignoring IVRHOOKS_PBX_URL")
        await session.type("101 1")
        line = await session.expect("decision:")
        assert line.startswith("decision: call 2001  (handler: sales, HTTP 200, ")
        assert line.rstrip().endswith(" ms)")

        await session.type("101 7")
        assert "the receptionist's own menu" in await session.expect("no route matches")
        await session.type("to 9999")
        await session.expect("calls now go to receptionist 9999")
        await session.type("101 1")
        assert "no receptionist with extension 9999" in await session.expect("error:")
        await session.type("to 8000")
        await session.expect("calls now go to receptionist 8000")

        # An edit of the same size within the same second (the mtime put back to say so): a
        # bytecode cache, checked by mtime and size, would hide it.
        before = app_file.stat()
        app_file.write_text(APP.format(destination="2002"))
        os.utime(app_file, ns=(before.st_atime_ns, before.st_mtime_ns))
        await session.expect("reloading (changed: devapp.py)")
        await session.type("101 1")
        assert (await session.expect("decision:")).startswith("decision: call 2002  ")

        app_file.write_text("this is not python\n")
        await session.expect("the app exited (code 1)")
        await session.type("101 1")
        assert "the app is not running" in await session.expect("error:")

        app_file.write_text(APP.format(destination="2003"))
        await session.expect("reloading (changed: devapp.py)")
        await session.type("101 1")
        assert (await session.expect("decision:")).startswith("decision: call 2003  ")

        assert proc.stdin is not None
        proc.stdin.close()
        assert await asyncio.wait_for(proc.wait(), 15) == 0
        rest = await proc.stdout.read() if proc.stdout else b""
        assert b"Traceback" not in rest
    finally:
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            await proc.wait()
    # Leaving dev ended its child: nothing serves the app's port any more.
    bind_socket("127.0.0.1", port).close()


TWO_STEPS = """
from ivrhooks import IVRHooks, call

app = IVRHooks(receptionists=["8000"], auth="digest")

@app.dtmf("1000-9999")
async def remember(req):
    session = await req.session()
    session["account"] = req.digits
    return call("8001")

@app.dtmf("1", receptionists=["8001"])
async def recall(req):
    session = await req.session()
    return call("2" + session.get("account", "0000")[-3:])
"""


async def test_a_line_with_several_groups_of_digits_follows_the_call_across_receptionists(
    tmp_path: Path,
) -> None:
    app_file = tmp_path / "twosteps.py"
    app_file.write_text(TWO_STEPS)
    env = {k: v for k, v in os.environ.items() if not k.startswith("IVRHOOKS_")}
    cmd = [sys.executable, "-m", "ivrhooks", "dev", str(app_file), "--no-ui"]
    cmd += ["--port", str(spare_port()), "--pbx-port", str(spare_port())]
    proc = await asyncio.create_subprocess_exec(
        *cmd,
        env=env,
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    session = DevProcess(proc)
    try:
        await session.expect("type CALLER")
        await session.type("101 4321 1")
        first = await session.expect("1. receptionist")
        second = await session.expect("2. receptionist")
        summary = await session.expect("session ")
        assert first.startswith(
            "1. receptionist 8000 keys '4321': decision: call 8001  (handler: remember, HTTP 200, "
        ), first
        # 8001's handler read what 8000's wrote: the same call, the same session.
        assert second.startswith(
            "2. receptionist 8001 keys '1': decision: call 2321  (handler: recall, HTTP 200, "
        ), second
        assert first.rstrip().endswith(" ms)") and second.rstrip().endswith(" ms)")
        assert summary.rstrip().endswith(": 2 hops") and summary.split()[1].rstrip(":").isdigit()

        # One prompt, a new call: nothing remembered from the last one.
        await session.type("to 8001")
        await session.expect("calls now go to receptionist 8001")
        await session.type("101 1")
        line = await session.expect("decision:")
        assert line.startswith("decision: call 2000  (handler: recall, "), line

        await session.type("quit")
        assert await asyncio.wait_for(proc.wait(), 15) == 0
    finally:
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            await proc.wait()
