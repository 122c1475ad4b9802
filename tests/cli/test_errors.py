"""A user's mistake is one line, ``Error: ...`` naming what to change, from every command: never a
traceback. Through ``CliRunner`` for the whole table, and through a real subprocess for each
kind of mistake (what a person at a terminal sees)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from ivrhooks.cli import main
from ivrhooks.testing import free_port

GOOD = """
from ivrhooks import IVRHooks, call
app = IVRHooks(receptionists=["8000"])

@app.dtmf("1")
async def sales(req):
    return call("2001")
"""

MISTAKES = {
    "bad-mask": ('@app.dtmf("1;;2")\nasync def bad(req):\n    return "1"\n', "empty entry"),
    "overlap": ('@app.dtmf("1-5")\nasync def wide(req):\n    return "1"\n', "both match"),
    "duplicate-name": (
        '@app.dtmf("7", name="sales")\nasync def other(req):\n    return "1"\n',
        "two routes are named 'sales'",
    ),
}

# The PBX settings every registration command needs, pointing at a port nothing listens on.
PBX_ENV = {
    "IVRHOOKS_PBX_URL": "http://127.0.0.1:9/api",
    "IVRHOOKS_PBX_USERNAME": "admin",
    "IVRHOOKS_PBX_PASSWORD": "secret",
    "IVRHOOKS_SECRET": "cli-error-tests-secret-0123",
    "IVRHOOKS_PUBLIC_URL": "http://127.0.0.1:8080",
}


def _write(tmp_path: Path, name: str, extra: str = "") -> Path:
    path = tmp_path / f"{name.replace('-', '_')}_app.py"
    path.write_text(GOOD + extra)
    return path


def _htpasswd_app(tmp_path: Path) -> Path:
    (tmp_path / "users.htpasswd").write_text("portal:plainpassword\n")  # plaintext: refused
    return _write(
        tmp_path,
        "htpasswd",
        "from pathlib import Path\nfrom ivrhooks import StaticCredentials\n"
        "@app.dtmf('9', credentials=StaticCredentials(htpasswd=Path(__file__).parent / "
        "'users.htpasswd'))\nasync def portal(req):\n    return '1'\n",
    )


def _args(command: str, path: Path) -> list[str]:
    if command == "run":
        return ["run", str(path), "--port", "0", "--pbx-port", str(free_port())]
    return [command, str(path)]


def _assert_one_line(output: str, exit_code: int, needle: str) -> None:
    assert exit_code == 1, output
    assert "Traceback" not in output, output
    errors = [line for line in output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, output
    assert needle in errors[0], output


COMMANDS = ["routes", "run", "plan", "sync", "unregister"]


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("mistake", sorted(MISTAKES))
def test_a_mistake_in_the_app_is_one_line_from_every_command(
    tmp_path: Path, command: str, mistake: str
) -> None:
    extra, needle = MISTAKES[mistake]
    path = _write(tmp_path, mistake, extra)
    result = CliRunner().invoke(main, _args(command, path), env=PBX_ENV)
    _assert_one_line(result.output, result.exit_code, needle)


@pytest.mark.parametrize("command", [c for c in COMMANDS if c != "routes"])
def test_a_bad_variable_is_one_line_naming_it(tmp_path: Path, command: str) -> None:
    path = _write(tmp_path, "good")
    env = {**PBX_ENV, "IVRHOOKS_DEADLINE": "abc"}
    result = CliRunner().invoke(main, _args(command, path), env=env)
    _assert_one_line(result.output, result.exit_code, "IVRHOOKS_DEADLINE='abc': must be a number")


def test_routes_needs_no_deployment_variables(tmp_path: Path) -> None:
    path = _write(tmp_path, "good")
    env = {"IVRHOOKS_DEADLINE": "abc", "IVRHOOKS_PBX_URL": "nonsense"}
    result = CliRunner().invoke(main, ["routes", str(path)], env=env)
    assert result.exit_code == 0, result.output
    assert "/hooks/sales" in result.output
    explained = CliRunner().invoke(main, ["routes", str(path), "--explain", "1"], env=env)
    assert explained.exit_code == 0 and "-> sales" in explained.output


@pytest.mark.parametrize("command", ["run", "plan", "sync"])
def test_a_refused_htpasswd_file_is_one_line_at_startup(tmp_path: Path, command: str) -> None:
    path = _htpasswd_app(tmp_path)
    assert CliRunner().invoke(main, ["routes", str(path)]).exit_code == 0, "offline: not loaded"
    result = CliRunner().invoke(main, _args(command, path), env=PBX_ENV)
    _assert_one_line(result.output, result.exit_code, "re-create it with")


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ivrhooks", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", **env},
        check=False,
    )


TERMINAL_MISTAKES = ["bad-variable", "bad-mask", "overlap", "duplicate-name", "htpasswd"]


@pytest.mark.parametrize("mistake", TERMINAL_MISTAKES)
def test_what_a_person_sees_in_a_terminal(tmp_path: Path, mistake: str) -> None:
    env = dict(PBX_ENV)
    if mistake == "bad-variable":
        path, env["IVRHOOKS_DEADLINE"], needle = (
            _write(tmp_path, "good"),
            "abc",
            "IVRHOOKS_DEADLINE",
        )
    elif mistake == "htpasswd":
        path, needle = _htpasswd_app(tmp_path), "re-create it with"
    else:
        extra, needle = MISTAKES[mistake]
        path = _write(tmp_path, mistake, extra)
    done = _cli(*_args("run", path), env=env)
    _assert_one_line(done.stdout + done.stderr, done.returncode, needle)
    assert "place a call" not in done.stdout, "no hint before the error"


@pytest.mark.parametrize("mistake", TERMINAL_MISTAKES)
def test_routes_in_a_terminal_never_prints_a_traceback(tmp_path: Path, mistake: str) -> None:
    """``ivrhooks routes`` is offline: a bad variable or a credential file it never loads is no
    concern of it (the table is printed); a mistake in the routes themselves is one line."""
    env = dict(PBX_ENV)
    if mistake == "bad-variable":
        path, env["IVRHOOKS_DEADLINE"] = _write(tmp_path, "good"), "abc"
    elif mistake == "htpasswd":
        path = _htpasswd_app(tmp_path)
    else:
        extra, needle = MISTAKES[mistake]
        path = _write(tmp_path, mistake, extra)
    done = _cli("routes", str(path), env=env)
    output = done.stdout + done.stderr
    if mistake in ("bad-variable", "htpasswd"):
        assert done.returncode == 0 and "Traceback" not in output, output
        assert "/hooks/sales" in done.stdout, output
    else:
        _assert_one_line(output, done.returncode, needle)
