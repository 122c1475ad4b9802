"""``ivrhooks run``'s own variables (``IVRHOOKS_HOST``, ``IVRHOOKS_PORT``,
``IVRHOOKS_EMBEDDED_PBX_PASSWORD``) are read through their declarations (``RunSettings``): a bad
value is one line naming the variable, as for every other variable, never click's
``Invalid value for '--port'``; a bad ``--port`` on the command line keeps click's message."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.cli.test_run import APP, ROOT, wait_ready
from tests.ports import spare_port


def _run(tmp_path: Path, *args: str, **variables: str) -> subprocess.CompletedProcess[str]:
    if not (tmp_path / "runapp.py").exists():
        (tmp_path / "runapp.py").write_text(APP)
    env = {k: v for k, v in os.environ.items() if not k.startswith("IVRHOOKS_")}
    cmd = [sys.executable, "-m", "ivrhooks", "run", str(tmp_path / "runapp.py")]
    return subprocess.run(
        [*cmd, "--pbx-port", str(spare_port()), "--no-ui", *args],
        env={**env, **variables},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


BAD = {
    "port-not-a-number": (
        {"IVRHOOKS_PORT": "abc"},
        "Error: IVRHOOKS_PORT='abc': must be a whole number",
    ),
    "port-out-of-range": (
        {"IVRHOOKS_PORT": "70000"},
        "Error: IVRHOOKS_PORT='70000': must be from 0 to 65535",
    ),
    "port-with-another-bad-variable": (
        {"IVRHOOKS_PORT": "abc", "IVRHOOKS_DEADLINE": "soon"},
        "IVRHOOKS_PORT='abc': must be a whole number",
    ),
    "host-that-cannot-be-served": (
        {"IVRHOOKS_HOST": "no such host", "IVRHOOKS_PORT": "0"},
        "Error: IVRHOOKS_HOST/IVRHOOKS_PORT: cannot serve the app on no such host:0",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_run_variable_is_one_line_naming_it(tmp_path: Path, case: str) -> None:
    variables, expected = BAD[case]
    done = _run(tmp_path, **variables)
    print(done.stderr)
    assert done.returncode == 1, done.stderr
    assert done.stdout == "", "nothing served, nothing printed before the error"
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("Error: ") and expected in line, line
    assert "--port" not in line and "Invalid value" not in line, line


def test_the_variable_is_named_for_a_bad_variable_and_the_option_for_a_bad_option(
    tmp_path: Path,
) -> None:
    (tmp_path / "runapp.py").write_text(APP)
    # Two processes of their own, started together: neither depends on the other.
    with ThreadPoolExecutor(2) as pool:
        variable = pool.submit(_run, tmp_path, IVRHOOKS_PORT="abc")
        option = pool.submit(_run, tmp_path, "--port", "abc")
        from_variable, from_option = variable.result(), option.result()
    assert from_variable.stderr.strip() == "Error: IVRHOOKS_PORT='abc': must be a whole number"
    assert from_option.returncode == 2, from_option.stderr
    assert from_option.stderr.strip().endswith(
        "Error: Invalid value for '--port': 'abc' is not a valid integer range."
    )


async def test_the_variables_are_read_as_declared_and_the_command_line_wins(
    tmp_path: Path,
) -> None:
    (tmp_path / "runapp.py").write_text(APP)
    env = {k: v for k, v in os.environ.items() if not k.startswith("IVRHOOKS_")}
    # Both trimmed, as every variable is ("  8080 " is the port 8080); the command line's
    # --port 0 wins over IVRHOOKS_PORT, which was checked all the same.
    env["IVRHOOKS_EMBEDDED_PBX_PASSWORD"] = "  devpassword123  "
    env["IVRHOOKS_HOST"] = " 127.0.0.1 "
    env["IVRHOOKS_PORT"] = f" {spare_port()} "
    cmd = [sys.executable, "-m", "ivrhooks", "run", str(tmp_path / "runapp.py"), "--port", "0"]
    cmd += ["--pbx-port", str(spare_port()), "--no-ui", "--log-level", "warning"]
    proc = await asyncio.create_subprocess_exec(
        *cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        assert proc.stdout is not None
        served = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
        login = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
        assert served.startswith("serving on http://127.0.0.1:"), served
        assert not served.rstrip().endswith(env["IVRHOOKS_PORT"].strip()), "--port 0 wins"
        assert login.rstrip().endswith("(login admin / devpassword123)"), login
        await wait_ready(served.split()[-1] + "/readyz", proc)
    finally:
        proc.terminate()
        await asyncio.wait_for(proc.communicate(), 15)
