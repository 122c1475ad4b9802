"""``ivrhooks call --pbx URL`` given the app's own URL (the first line ``ivrhooks run`` prints,
"serving on URL") instead of the embedded fake PBX's: one line that says so and where the fake
PBX is, exit 1; the fake PBX's URL, from the same run, places the call."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from ivrhooks import ActionRequest, IVRHooks, call
from ivrhooks.cli import main
from ivrhooks.testing import serve
from tests.cli.test_run import APP, run_embedded


def _call(pbx: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IVRHOOKS_")}
    return subprocess.run(
        [sys.executable, "-m", "ivrhooks", "call", "--to", "8000", "--digits", "1", "--pbx", pbx],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def test_the_apps_url_as_pbx_is_named_as_the_mistake_it_is(tmp_path: Path) -> None:
    (tmp_path / "runapp.py").write_text(APP)
    async with run_embedded(tmp_path / "runapp.py") as run:
        # Four processes of their own, started together: none depends on another's answer.
        *wrong, right = await asyncio.gather(
            *(asyncio.to_thread(_call, run.url + tail) for tail in ("", "/", "/api")),
            asyncio.to_thread(_call, run.pbx_api),
        )
    for done in wrong:
        print(done.stderr)
        assert done.returncode == 1, done.stderr
        assert done.stdout == ""
        [line] = done.stderr.strip().splitlines()
        assert line.startswith(f"Error: {run.url} is the app, not the fake PBX; the embedded ")
        assert "at the URL `ivrhooks run` printed as 'embedded fake PBX: URL'" in line, line
        assert line.endswith("pass that to --pbx"), line
    assert right.returncode == 0, right.stderr
    assert right.stdout.startswith("decision: call 2001  (handler: sales, HTTP 200, ")


async def test_an_app_without_an_embedded_pbx_is_named_too() -> None:
    app = IVRHooks(receptionists=["8000"], env=False)

    @app.dtmf("1")
    async def sales(req: ActionRequest) -> object:
        return call("2001")

    async with serve(app) as url:
        result = await asyncio.to_thread(
            CliRunner().invoke, main, ["call", "--to", "8000", "--digits", "1", "--pbx", url]
        )
    assert result.exit_code == 1, result.output
    assert result.output.strip() == (
        f"Error: {url} is the app, not the fake PBX, and it registers on no PBX, not on an "
        "embedded fake one: start `ivrhooks run` without IVRHOOKS_PBX_URL, or `ivrhooks "
        "fake-pbx`, and pass --pbx its URL"
    )
