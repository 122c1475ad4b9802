"""``ivrhooks dev --pbx`` run as a person runs it, against ``ivrhooks fake-pbx`` in a process of
its own, and what that PBX holds, read through its REST API."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

from ivrhooks.fakepbx import DEFAULT_PASSWORD, DEFAULT_USERNAME
from ivrhooks.pbx.client import PBXClient
from ivrhooks.schema.models import ActionUrl

__all__ = [
    "SHARED_RECEPTIONISTS",
    "DevProcess",
    "dev_env",
    "entries",
    "fresh_receptionists",
    "running_dev",
]

ROOT = Path(__file__).resolve().parents[2]

# The receptionists of the fake PBX these tests share (tests/dev/conftest.py), in pairs: one
# pair per test, none given twice, so no test sees what another registered, left or removed.
SHARED_RECEPTIONISTS = tuple((f"81{n:02}", f"89{n:02}") for n in range(24))
_unused = iter(SHARED_RECEPTIONISTS)


def fresh_receptionists() -> tuple[str, str]:
    """Two receptionists of the shared fake PBX (``main``, ``dev``) no test had yet here."""
    found = next(_unused, None)
    assert found is not None, f"more tests than {len(SHARED_RECEPTIONISTS)} receptionist pairs"
    return found


def dev_env(**extra: str) -> dict[str, str]:
    """The shell of a developer whose PBX login is set, and nothing else of ivrhooks'."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("IVRHOOKS_")}
    env["IVRHOOKS_PBX_USERNAME"] = DEFAULT_USERNAME
    env["IVRHOOKS_PBX_PASSWORD"] = DEFAULT_PASSWORD
    return {**env, **extra}


class DevProcess:
    """A running ``ivrhooks dev``: type lines, wait for output lines (bounded)."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.transcript: list[str] = []

    async def type(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line.encode() + b"\n")
        await self.proc.stdin.drain()

    async def expect(self, text: str, limit: float = 30.0) -> str:
        assert self.proc.stdout is not None
        deadline = time.monotonic() + limit
        while True:
            left = deadline - time.monotonic()
            try:
                raw = await asyncio.wait_for(self.proc.stdout.readline(), max(left, 0.0))
            except TimeoutError:
                raise AssertionError(
                    f"no {text!r} within {limit}s:\n" + "".join(self.transcript)
                ) from None
            if not raw:
                raise AssertionError(f"dev ended before {text!r}:\n" + "".join(self.transcript))
            line = raw.decode()
            self.transcript.append(line)
            if text in line:
                return line

    async def expect_each(self, *texts: str, limit: float = 30.0) -> dict[str, str]:
        """The first line holding each of ``texts``, in whichever order they come: lines that
        different processes print (the app's, the registration pass's) race each other."""
        deadline = time.monotonic() + limit
        found: dict[str, str] = {}
        while len(found) < len(texts):
            try:
                line = await self.expect("", max(deadline - time.monotonic(), 0.0))
            except AssertionError:
                missing = [text for text in texts if text not in found]
                raise AssertionError(
                    f"no {missing} within {limit}s:\n" + "".join(self.transcript)
                ) from None
            found.update((text, line) for text in texts if text in line and text not in found)
        return found

    async def rest(self, limit: float = 30.0) -> str:
        """Everything it prints until it exits (bounded), its exit awaited."""
        assert self.proc.stdout is not None
        out = await asyncio.wait_for(self.proc.stdout.read(), limit)
        await asyncio.wait_for(self.proc.wait(), limit)
        self.transcript.append(out.decode())
        return out.decode()


@contextlib.asynccontextmanager
async def running_dev(
    args: list[str], env: dict[str, str], cwd: Path = ROOT
) -> AsyncIterator[DevProcess]:
    """``ivrhooks dev ARGS`` with a terminal's stdin (kept open) and stdout + stderr read as one.
    Its own process group: whatever is left of it at the end is killed, children included."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "ivrhooks",
        "dev",
        *args,
        env=env,
        cwd=cwd,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        yield DevProcess(proc)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        await proc.wait()


async def entries(pbx: str, extension: str) -> list[ActionUrl]:
    """The action URLs receptionist ``extension`` holds on the PBX at ``pbx`` (its /api URL)."""
    async with PBXClient(pbx, username=DEFAULT_USERNAME, password=DEFAULT_PASSWORD) as client:
        ids = [ivr.id async for ivr in client.ivrs.list() if ivr.extension_number == extension]
        assert len(ids) == 1, f"no receptionist {extension}"
        return sorted(await client.action_urls.list(ids[0]), key=lambda e: str(e.name))


async def add_entry(pbx: str, extension: str, **fields: object) -> None:
    """Create an action URL on receptionist ``extension``, as a person or another app would."""
    from ivrhooks.schema.models import ActionUrlCreate

    async with PBXClient(pbx, username=DEFAULT_USERNAME, password=DEFAULT_PASSWORD) as client:
        ids = [ivr.id async for ivr in client.ivrs.list() if ivr.extension_number == extension]
        body = ActionUrlCreate.model_validate({"enabled": True, "method": "POST", **fields})
        await client.action_urls.create(ids[0], body)
