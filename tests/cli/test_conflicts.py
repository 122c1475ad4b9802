"""Two apps that would answer the same input on one receptionist, as a person meets them: a real
``ivrhooks fake-pbx`` process holding the first app's entries, then ``ivrhooks plan`` and
``ivrhooks run`` of the second as real processes. Both commands name both apps."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ivrhooks.manifest import derive_app_id
from tests.cli.processes import fake_pbx_process

SECRET = "conflict-tests-secret-0123456789"

ALPHA = """
from ivrhooks import IVRHooks, call
app = IVRHooks(receptionists=["8000"])

@app.dtmf("1")
async def sales(req):
    return call("2001")
"""

BETA = """
from ivrhooks import IVRHooks, call
app = IVRHooks(receptionists=["8000"])

@app.dtmf("1;2")
async def support(req):
    return call("2002")
"""

ALPHA_URL, BETA_URL = "https://alpha.example", "https://beta.example"
ALPHA_ID, BETA_ID = derive_app_id("alpha", ALPHA_URL), derive_app_id("beta", BETA_URL)


def _env(pbx: str, public_url: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("IVRHOOKS_")}
    return {
        **base,
        "IVRHOOKS_PBX_URL": pbx,
        "IVRHOOKS_PBX_USERNAME": "admin",
        "IVRHOOKS_PBX_PASSWORD": "fakepbx",
        "IVRHOOKS_SECRET": SECRET,
        "IVRHOOKS_PUBLIC_URL": public_url,
    }


def _cli(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ivrhooks", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture(scope="module")
def shared_pbx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """A fake PBX in its own process, holding app alpha's entries (synced by ``ivrhooks
    sync``); yields the apps' directory and the PBX's REST URL."""
    where = tmp_path_factory.mktemp("apps")
    (where / "alpha.py").write_text(ALPHA)
    (where / "beta.py").write_text(BETA)
    with fake_pbx_process("8000:Main") as pbx:
        synced = _cli(where, _env(pbx, ALPHA_URL), "sync", "alpha.py")
        assert synced.returncode == 0, synced.stdout + synced.stderr
        yield where, pbx


def _names_both_apps(line: str) -> None:
    assert f"'ivrhooks:sales@{ALPHA_ID}'" in line, line
    assert f"{ALPHA_URL}/hooks/sales" in line, line
    assert f"route 'support' of this app ('ivrhooks:support@{BETA_ID}'," in line, line
    assert f"{BETA_URL}/hooks/support" in line, line
    assert "DTMF input '1'" in line, line


def test_plan_prints_the_conflict_naming_both_apps(shared_pbx: tuple[Path, str]) -> None:
    where, pbx = shared_pbx
    done = _cli(where, _env(pbx, BETA_URL), "plan", "beta.py")
    assert done.returncode == 2, "not in sync: " + done.stdout + done.stderr
    (line,) = [line for line in done.stdout.splitlines() if line.startswith("  ! conflict: ")]
    _names_both_apps(line)
    # Said once, with the plan: not again as a log line on stderr.
    assert line.removeprefix("  ! conflict: ") not in done.stderr, done.stderr


def test_run_refuses_to_start_with_one_line_naming_both_apps(
    shared_pbx: tuple[Path, str],
) -> None:
    where, pbx = shared_pbx
    done = _cli(where, _env(pbx, BETA_URL), "run", "beta.py", "--port", "0")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    (line,) = [line for line in done.stderr.splitlines() if line.startswith("Error:")]
    assert line.startswith("Error: refusing to register: receptionist 8000: "), line
    _names_both_apps(line)
