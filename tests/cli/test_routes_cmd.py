"""``ivrhooks routes``: the route table and ``--explain``, and how APP is loaded."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from ivrhooks.cli import main

APP = """
from ivrhooks import IVRHooks, call, repeat
app = IVRHooks(receptionists=["8000"])

@app.dtmf("1;2;3000-4000")
async def sales(req):
    return call("2001")

@app.caller("5551234", receptionists=["8001"])
def vip(req):
    return "2002"

other = IVRHooks(receptionists=["9000"])
"""


@pytest.fixture
def app_file(tmp_path: Path) -> Path:
    path = tmp_path / "menu_app.py"
    path.write_text(APP)
    return path


def test_routes_prints_the_table(app_file: Path) -> None:
    result = CliRunner().invoke(main, ["routes", str(app_file)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["KIND", "MASK", "FUNCTION", "RECEPTIONISTS", "PATH"]
    assert lines[1].split() == ["DTMF", "1;2;3000-4000", "menu_app.sales", "8000", "/hooks/sales"]
    assert lines[2].split() == ["CALLER", "5551234", "menu_app.vip", "8001", "/hooks/vip"]


def test_explain_names_the_route_and_the_entry(app_file: Path) -> None:
    result = CliRunner().invoke(
        main, ["routes", str(app_file), "--explain", "3500", "--kind", "dtmf"]
    )
    assert result.exit_code == 0, result.output
    assert "receptionist 8000: digits '3500' -> sales" in result.output
    assert "'3000-4000'" in result.output


def test_explain_says_when_nothing_matches(app_file: Path) -> None:
    result = CliRunner().invoke(main, ["routes", str(app_file), "--explain", "9"])
    assert result.exit_code == 0
    assert "no route takes this input" in result.output


def test_explain_caller_on_a_narrowed_route(app_file: Path) -> None:
    result = CliRunner().invoke(
        main, ["routes", str(app_file), "--explain", "5551234", "--receptionist", "8001"]
    )
    assert "caller '5551234' -> vip" in result.output


def test_app_attribute_and_bad_specs(app_file: Path) -> None:
    runner = CliRunner()
    other = runner.invoke(main, ["routes", f"{app_file}:other"])
    assert other.exit_code == 0 and "(no routes)" in other.output
    for spec, message in [
        (f"{app_file}:nope", "not an IVRHooks app"),
        ("no/such/file.py", "no such file"),
        ("no_such_module_xyz", "no module named"),
    ]:
        result = runner.invoke(main, ["routes", spec])
        assert result.exit_code == 2, result.output
        assert message in result.output
