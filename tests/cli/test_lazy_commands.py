"""Each ``ivrhooks`` command's module is imported when that command runs: the table naming them
(``ivrhooks.cli.group.COMMANDS``) is the whole command line, and a command loads no other's."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import import_module
from pathlib import Path

from ivrhooks.cli import main
from ivrhooks.cli.group import COMMANDS

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


def test_a_command_loads_no_other_commands_module(tmp_path: Path) -> None:
    (tmp_path / "lazyapp.py").write_text(APP)
    script = (
        "import json, sys\n"
        "from ivrhooks.cli import main\n"
        "try:\n"
        "    main(['routes', 'lazyapp.py'])\n"
        "except SystemExit as exc:\n"
        "    assert exc.code in (0, None), exc.code\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('ivrhooks.cli.'))))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    table, _, loaded = done.stdout.rstrip().rpartition("\n")
    assert "/hooks/sales" in table
    others = {module for name, module in COMMANDS.items() if name != "routes"}
    assert "ivrhooks.cli.routes" in json.loads(loaded)
    assert others.isdisjoint(json.loads(loaded)), loaded
