"""Each ``ivrhooks`` command's module is imported when that command runs: the table naming them
(``ivrhooks.cli.group.COMMANDS``) is the whole command line, and a command loads no other's.
``ivrhooks call`` (a client of a fake PBX in another process) loads neither the PBX, nor the
registration package, nor the PBX's models."""

from __future__ import annotations

import json
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


def _loaded_by(args: list[str], cwd: Path, status: int = 0) -> tuple[str, list[str]]:
    """``main(ARGS)`` in a fresh interpreter: what it printed, and the ivrhooks modules it
    loaded by the time it ended (exit status ``status``)."""
    script = (
        "import json, sys\n"
        "from ivrhooks.cli import main\n"
        "try:\n"
        f"    main({args!r})\n"
        "except SystemExit as exc:\n"
        f"    assert (exc.code or 0) == {status}, exc.code\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('ivrhooks'))))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=cwd,
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
