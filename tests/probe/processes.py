"""The probe and the fake PBX as a person runs them: each in a process of its own."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from ivrhooks.fakepbx import DEFAULT_PASSWORD, DEFAULT_USERNAME
from ivrhooks.pbx import PBXClient
from ivrhooks.registration.resolve import resolve_receptionists
from ivrhooks.schema.models import ActionUrl

__all__ = [
    "RECEPTIONIST",
    "SHARED_RECEPTIONISTS",
    "action_urls",
    "fake_pbx_with",
    "fresh_receptionist",
    "probe_env",
    "read_until",
    "receptionist_id",
    "rest",
    "run_probe",
    "start_probe",
]

RECEPTIONIST = "8999"
PROBE = [sys.executable, "-m", "ivrhooks", "probe", "--receptionist", RECEPTIONIST]
# The receptionists of the fake PBX the tests share (tests/probe/conftest.py), RECEPTIONIST
# first: one per test, none probed twice, so no test sees what another left there.
SHARED_RECEPTIONISTS = (RECEPTIONIST, *(str(n) for n in range(8980, 8999)))
_unused = iter(SHARED_RECEPTIONISTS)


def fresh_receptionist() -> str:
    """A receptionist of the shared fake PBX that no test of this process has had yet."""
    found = next(_unused, None)
    assert found is not None, f"more tests than {len(SHARED_RECEPTIONISTS)} receptionists"
    return found


def probe_env(pbx_url: str) -> dict[str, str]:
    """The environment an operator probes with: the PBX and its login, nothing else of ours."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("IVRHOOKS_")}
    return {
        **base,
        "IVRHOOKS_PBX_URL": pbx_url,
        "IVRHOOKS_PBX_USERNAME": DEFAULT_USERNAME,
        "IVRHOOKS_PBX_PASSWORD": DEFAULT_PASSWORD,
    }


def _probe(receptionist: str) -> list[str]:
    return [*PROBE[:-1], receptionist]


def run_probe(
    pbx_url: str, out: Path, *args: str, receptionist: str = RECEPTIONIST
) -> subprocess.CompletedProcess[str]:
    """``ivrhooks probe --receptionist 8999 --port 0 --out OUT ARGS`` to its end (another
    ``receptionist``: on a fake PBX that tests share, one of the test's own)."""
    return subprocess.run(
        [*_probe(receptionist), "--port", "0", "--out", str(out), *args],
        env=probe_env(pbx_url),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@contextlib.contextmanager
def start_probe(
    pbx_url: str, out: Path, *args: str, receptionist: str = RECEPTIONIST
) -> Iterator[subprocess.Popen[str]]:
    """The probe waiting on its operator: stdin is a pipe the test writes Enter to. Killed
    when the block is left early; its pipes closed either way."""
    proc = subprocess.Popen(
        [*_probe(receptionist), "--port", "0", "--out", str(out), *args],
        env=probe_env(pbx_url),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    with proc:
        try:
            yield proc
        finally:
            if proc.poll() is None:
                proc.kill()


def read_until(stream: IO[str] | None, marker: str) -> list[str]:
    """Lines of ``stream`` up to and including the first that contains ``marker``."""
    assert stream is not None
    lines = []
    for line in stream:
        lines.append(line)
        if marker in line:
            return lines
    raise AssertionError(f"the process ended before printing {marker!r}:\n{''.join(lines)}")


def rest(proc: subprocess.Popen[str]) -> tuple[str, str]:
    """What ``proc`` prints from here to its end (read from the same buffered streams that
    :func:`read_until` read: ``communicate`` would read the descriptors under them)."""
    assert proc.stdout is not None and proc.stderr is not None
    out = proc.stdout.read()
    err = proc.stderr.read()
    proc.wait(timeout=30)
    return out, err


@contextlib.contextmanager
def fake_pbx_with(*args: str) -> Iterator[str]:
    """``ivrhooks fake-pbx --port 0 --ivr 8999:Probe ARGS`` (its login ``DEFAULT_USERNAME`` /
    ``DEFAULT_PASSWORD``); yields its REST URL. tests/cli/processes.py's helper, with
    arguments of the test's own (``--behaviour FILE``)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("IVRHOOKS_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "ivrhooks", "fake-pbx", "--port", "0",
         "--ivr", f"{RECEPTIONIST}:Probe", "--password", DEFAULT_PASSWORD, *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    first = proc.stdout.readline()
    try:
        assert first.startswith("fake PBX REST API: "), first + (
            proc.stderr.read() if proc.stderr else ""
        )
        yield first.split()[-1]
    finally:
        proc.terminate()
        proc.communicate(timeout=15)


async def receptionist_id(client: PBXClient, receptionist: str = RECEPTIONIST) -> str:
    """The probe's receptionist's id on the PBX ``client`` talks to."""
    return (await resolve_receptionists(client, [receptionist]))[receptionist]


async def action_urls(pbx_url: str, receptionist: str = RECEPTIONIST) -> list[ActionUrl]:
    """The action URLs of the probe's receptionist, read over the PBX's REST API."""
    async with PBXClient(pbx_url, username=DEFAULT_USERNAME, password=DEFAULT_PASSWORD) as pbx:
        ivr_id = await receptionist_id(pbx, receptionist)
        return await pbx.action_urls.list(ivr_id)
