"""``ivrhooks dev`` loads an app that lives in a package as ``ivrhooks run`` does, named either way
(``myivr.app`` or ``myivr/app.py``), and reloads when any module of the package changes.

Driven as a person drives it: the ``ivrhooks`` command (not ``python -m``, which would put the
current directory on ``sys.path`` for free) started in the project's directory."""

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

from ivrhooks.cli.dev import watch_paths
from ivrhooks.cli.loader import load_app, locate_app
from tests.dev.session import DevProcess
from tests.ports import spare_port

IVRHOOKS = Path(sys.executable).parent / "ivrhooks"

APP = """
from ivrhooks import IVRHooks, call

from myivr.crm import DESK
from .menu import SALES

app = IVRHooks(receptionists=["8000"], auth="digest")

@app.dtmf("1")
async def sales(req):
    return call(SALES)

@app.dtmf("2")
async def desk(req):
    return call(DESK)
"""


def _package(root: Path) -> Path:
    package = root / "myivr"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "menu.py").write_text('SALES = "2001"\n')
    (package / "crm.py").write_text('DESK = "2100"\n')
    (package / "app.py").write_text(APP)
    return package


@pytest.mark.parametrize("spec", ["myivr.app", "myivr/app.py"])
async def test_dev_answers_a_call_for_an_app_in_a_package(tmp_path: Path, spec: str) -> None:
    assert IVRHOOKS.is_file(), "the ivrhooks command of this environment"
    package = _package(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith("IVRHOOKS_")}
    env.pop("PYTHONPATH", None)  # the project's directory is found because it is the cwd
    cmd = [str(IVRHOOKS), "dev", spec, "--no-ui"]
    cmd += ["--port", str(spare_port()), "--pbx-port", str(spare_port())]
    proc = await asyncio.create_subprocess_exec(
        *cmd,
        env=env,
        cwd=tmp_path,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    session = DevProcess(proc)
    try:
        watching = await session.expect("ivrhooks dev: reloading on .py changes under")
        assert watching.split("under ", 1)[1].strip() == str(package.resolve())
        await session.type("101 1")
        line = await session.expect("decision:")
        assert line.startswith("decision: call 2001  (handler: sales, HTTP 200, "), line
        await session.type("101 2")
        assert (await session.expect("decision:")).startswith("decision: call 2100  ")

        # A module of the package other than the app's own: the package is what is watched.
        (package / "menu.py").write_text('SALES = "2002"\n')
        await session.expect("reloading (changed: menu.py)")
        await session.type("101 1")
        assert (await session.expect("decision:")).startswith("decision: call 2002  ")

        await session.type("quit")
        assert await asyncio.wait_for(proc.wait(), 15) == 0
    finally:
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            await proc.wait()
        print("".join(session.transcript))


def test_a_file_of_a_package_is_the_package_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = _package(tmp_path)
    nested = package / "ivrs"
    nested.mkdir()
    (nested / "__init__.py").write_text("")
    (nested / "main.py").write_text(APP.replace("from .menu", "from ..menu"))
    monkeypatch.chdir(tmp_path / "myivr")  # not where the package's root is: found anyway
    monkeypatch.setattr(sys, "path", list(sys.path))
    for name in [m for m in sys.modules if m == "myivr" or m.startswith("myivr.")]:
        monkeypatch.delitem(sys.modules, name)

    where = locate_app(str(nested / "main.py"))
    assert (where.module, where.search_path) == ("myivr.ivrs.main", str(tmp_path.resolve()))
    assert watch_paths(str(nested / "main.py")) == [package.resolve()]
    app = load_app(f"{nested / 'main.py'}:app")
    assert [route.name for route in app.routes] == ["sales", "desk"]
    assert sys.modules["myivr.ivrs.main"].app is app


def test_a_relative_import_outside_a_package_says_what_to_add(tmp_path: Path) -> None:
    (tmp_path / "menu.py").write_text('SALES = "2001"\n')
    (tmp_path / "loose.py").write_text(APP.replace("from myivr.crm import DESK", 'DESK = "1"'))
    with pytest.raises(click.BadParameter, match=r"add an empty .*__init__\.py"):
        load_app(str(tmp_path / "loose.py"))
