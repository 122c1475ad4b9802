"""Each ``ivrhooks`` command's module is imported when that command runs: the table naming them
(``ivrhooks.cli.group.COMMANDS``) is the whole command line, and a command loads no other's.
``ivrhooks call`` (a client of a fake PBX in another process) loads neither the PBX, nor the
registration package, nor the PBX's models. ``ivrhooks run`` loads its server (uvicorn, the
embedded fake PBX, the dev page) only once the app and its configuration have passed their
checks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib import import_module
from pathlib import Path

from ivrhooks.cli import main
from ivrhooks.cli.group import COMMANDS
from tests.ports import refused_port

APP = """
from ivrhooks import IVRHooks, call
app = IVRHooks(receptionists=["8000"])

@app.dtmf("1")
async def sales(req):
    return call("2001")
"""

CLI = Path(__file__).resolve().parents[2] / "ivrhooks" / "cli"


def test_the_table_names_every_command_and_the_module_that_defines_it() -> None:
    # Every module of the command line, imported: whatever command one defines is on the group.
    for path in sorted(CLI.glob("*.py")):
        import_module(f"ivrhooks.cli.{path.stem}")
    defined = {name: command.callback.__module__ for name, command in main.commands.items()}
    assert all(command.callback is not None for command in main.commands.values())
    assert defined == COMMANDS


def _loaded_by(
    args: list[str], cwd: Path, status: int = 0, env: dict[str, str] | None = None
) -> tuple[str, list[str]]:
    """``main(ARGS)`` in a fresh interpreter (``env`` added to the environment): what it
    printed, and the ivrhooks modules (and uvicorn) it loaded by the time it ended (exit status
    ``status``)."""
    script = (
        "import json, sys\n"
        "from ivrhooks.cli import main\n"
        "try:\n"
        f"    main({args!r})\n"
        "except SystemExit as exc:\n"
        f"    assert (exc.code or 0) == {status}, exc.code\n"
        "names = sorted(m for m in sys.modules if m.startswith(('ivrhooks', 'uvicorn')))\n"
        "print(json.dumps(names))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    output, _, loaded = done.stdout.rstrip().rpartition("\n")
    return output + done.stderr, json.loads(loaded)


def test_a_command_loads_no_other_commands_module(tmp_path: Path) -> None:
    (tmp_path / "lazyapp.py").write_text(APP)
    table, loaded = _loaded_by(["routes", "lazyapp.py"], tmp_path)
    assert "/hooks/sales" in table
    others = {module for name, module in COMMANDS.items() if name != "routes"}
    assert "ivrhooks.cli.routes" in loaded
    assert others.isdisjoint(loaded), loaded


def test_call_loads_no_pbx_registration_or_models(tmp_path: Path) -> None:
    with refused_port() as port:
        said, loaded = _loaded_by(
            ["call", "--to", "8000", "--pbx", f"http://127.0.0.1:{port}"], tmp_path, status=1
        )
    assert "Error: no fake PBX answers at" in said  # the command ran, to its end
    assert "ivrhooks.fakepbx.remote" in loaded
    heavy = ["ivrhooks.fakepbx.pbx", "ivrhooks.registration", "ivrhooks.schema.models"]
    assert [m for m in heavy if m in loaded] == [], loaded


def test_run_reports_a_bad_variable_or_app_before_loading_the_server(tmp_path: Path) -> None:
    # uvicorn, the embedded fake PBX and the dev page are most of `ivrhooks run`'s start-up:
    # loaded once the app and its configuration have passed their checks, never for a mistake.
    (tmp_path / "lazyapp.py").write_text(APP)
    said, loaded = _loaded_by(
        ["run", "lazyapp.py"], tmp_path, status=1, env={"IVRHOOKS_PORT": "abc"}
    )
    assert "Error: IVRHOOKS_PORT='abc': must be a whole number" in said
    missing, loaded_too = _loaded_by(["run", "absent.py"], tmp_path, status=2)
    assert "Error: Invalid value for APP: no such file: absent.py" in missing
    heavy = ["uvicorn", "ivrhooks.cli.serving", "ivrhooks.server", "ivrhooks.fakepbx"]
    for modules in (loaded, loaded_too):
        assert "ivrhooks.cli.run" in modules  # the command ran, and stopped at the mistake
        assert [m for m in heavy if m in modules] == [], modules
