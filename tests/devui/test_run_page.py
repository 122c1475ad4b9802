"""Whether ``ivrhooks run`` serves the dev page: with the embedded PBX only, where it says."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import click
import httpx
import pytest

from ivrhooks.cli.serving import dev_page_socket
from ivrhooks.fakepbx import FakePBX
from ivrhooks.testing import bind_socket, serve
from tests.cli.test_run import APP, ROOT, wait_ready
from tests.ports import spare_port


@pytest.mark.parametrize(
    ("case", "served"),
    [
        pytest.param("any-free-port", True, id="any-free-port"),
        pytest.param("no-ui", False, id="no-ui"),
        pytest.param("real-pbx", False, id="never-with-a-real-pbx"),
    ],
)
async def test_the_page_is_served_with_the_embedded_pbx_only(
    tmp_path: Path, case: str, served: bool
) -> None:
    (tmp_path / "runapp.py").write_text(APP)
    port = spare_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("IVRHOOKS_")}
    cmd = [sys.executable, "-m", "ivrhooks", "run", str(tmp_path / "runapp.py")]
    cmd += ["--port", str(port), "--pbx-port", str(spare_port()), "--log-level", "warning"]
    pbx = FakePBX()  # a PBX of its own for the real-PBX case: the app registers there
    # With a real PBX the page's port is asked for by name, and held here all along: had the
    # app tried to serve the page there, it would have stopped ("--ui-port: cannot serve").
    with bind_socket() as taken:
        cmd += {"any-free-port": ["--ui-port", "0"], "no-ui": ["--no-ui"]}.get(
            case, ["--ui-port", str(taken.getsockname()[1])]
        )
        async with serve(pbx.app) as pbx_url:
            if case == "real-pbx":
                env |= {
                    "IVRHOOKS_PBX_URL": pbx_url + "/api",
                    "IVRHOOKS_PBX_USERNAME": pbx.username,
                    "IVRHOOKS_PBX_PASSWORD": pbx.password,
                    "IVRHOOKS_SECRET": "a-real-deployment-secret-0123456789",
                    "IVRHOOKS_PUBLIC_URL": f"http://127.0.0.1:{port}",
                }
                pbx.add_ivr("8000", "Main")
            proc = await asyncio.create_subprocess_exec(
                *cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
            )
            try:
                await wait_ready(f"http://127.0.0.1:{port}/readyz", proc)
            finally:
                proc.terminate()
                raw, _ = await asyncio.wait_for(proc.communicate(), 15)
    pbx.close()
    output = raw.decode()
    pages = re.findall(r"^dev page: (http://127\.0\.0\.1:(\d+)/) ", output, re.MULTILINE)
    assert bool(pages) is served, output
    if served:
        [(_, shown_port)] = pages
        assert shown_port != "0"


async def test_the_page_answers_at_the_url_printed(tmp_path: Path) -> None:
    (tmp_path / "runapp.py").write_text(APP)
    port = spare_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("IVRHOOKS_")}
    cmd = [sys.executable, "-m", "ivrhooks", "run", str(tmp_path / "runapp.py")]
    cmd += ["--port", str(port), "--pbx-port", str(spare_port()), "--ui-port", "0"]
    cmd += ["--log-level", "warning"]
    proc = await asyncio.create_subprocess_exec(
        *cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    try:
        assert proc.stdout is not None
        async with asyncio.timeout(30):
            while not (line := (await proc.stdout.readline()).decode()).startswith("dev page:"):
                assert line, "ivrhooks run ended before printing the dev page's URL"
        url = line.split()[2]
        await wait_ready(f"http://127.0.0.1:{port}/readyz", proc)
        async with httpx.AsyncClient() as http:
            shown = (await http.get(url + "api/map")).json()
    finally:
        proc.terminate()
        await asyncio.wait_for(proc.communicate(), 15)
    assert [r["name"] for r in shown["receptionists"][0]["routes"]] == ["sales"]


def test_a_taken_port_asked_for_by_name_is_an_error() -> None:
    taken = bind_socket()
    try:
        port = taken.getsockname()[1]
        with pytest.raises(
            click.ClickException, match=f"--ui-port: cannot serve the dev page on 127.0.0.1:{port}"
        ):
            dev_page_socket(port, asked=True)
    finally:
        taken.close()


def test_a_taken_default_port_is_a_warning_and_no_page(caplog: pytest.LogCaptureFixture) -> None:
    taken = bind_socket()
    try:
        port = taken.getsockname()[1]
        with caplog.at_level(logging.WARNING, logger="ivrhooks"):
            assert dev_page_socket(port, asked=False) is None
    finally:
        taken.close()
    [record] = caplog.records
    assert record.getMessage().startswith(f"dev page not served: 127.0.0.1:{port} is taken")
    sock = dev_page_socket(port, asked=False)  # free again: served
    assert sock is not None
    sock.close()
