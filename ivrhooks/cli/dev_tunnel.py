"""``ivrhooks dev --pbx URL --tunnel-cmd "..."``: the command that makes the app reachable.

A real PBX must reach the app at a public URL. Any tunnel will do, and none is bundled: a
bundled vendor breaks when the vendor changes (one well-known telephony CLI removed its bundled
ngrok after it did). The command is run as given (split as a shell would, run without one),
its output read until it prints an https origin (``https://host[:port]``, no path), which
becomes the public URL; it keeps running for the session and is stopped at the end.

A URL with a path is passed over: cloudflared's quick tunnel, for one, logs a link to its
documentation before the tunnel's own ``https://<words>.trycloudflare.com``. Both stdout and
stderr are read (cloudflared writes its log to stderr), and read to the end, so a tunnel that
keeps talking never blocks on a full pipe.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shlex
import signal
import subprocess
from collections import deque
from typing import Any
from urllib.parse import urlsplit

import click

__all__ = ["TUNNEL_WAIT", "Tunnel", "origin_in"]

TUNNEL_WAIT = 30.0
"""Seconds a tunnel command has to print its URL."""

_URL = re.compile(r"https://[^\s\"'<>|`]+")


def origin_in(line: str) -> str | None:
    """The first https origin (no path, query or fragment) in ``line``, without a final ``/``."""
    for found in _URL.findall(line):
        parts = urlsplit(found.rstrip(".,;:)]}"))
        if parts.hostname and parts.path in ("", "/") and not parts.query and not parts.fragment:
            return f"https://{parts.netloc}"
    return None


class Tunnel:
    """A tunnel command running for the session."""

    def __init__(self, command: str) -> None:
        self.command = command
        self.url: str | None = None
        self._proc: asyncio.subprocess.Process | None = None
        self._readers: list[asyncio.Task[None]] = []
        self._found: asyncio.Future[str] | None = None
        self._tail: deque[str] = deque(maxlen=10)

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    async def start(self, wait: float = TUNNEL_WAIT) -> str:
        """Run the command; return the first https origin it prints within ``wait`` seconds.
        ``click.ClickException`` says why there is none (and the command is stopped)."""
        try:
            argv = shlex.split(self.command)
        except ValueError as exc:
            raise click.BadParameter(
                f"{exc}: {self.command!r}", param_hint="--tunnel-cmd"
            ) from None
        if not argv:
            raise click.BadParameter("give a command", param_hint="--tunnel-cmd")
        try:
            # A session of its own: stopping it stops what it started too (a wrapper script's
            # children), and the terminal's Ctrl-C leaves it to `ivrhooks dev` to stop.
            self._proc = await asyncio.create_subprocess_exec(
                *argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
            )
        except OSError as exc:
            raise click.ClickException(
                f"--tunnel-cmd: cannot run {argv[0]!r}: {exc.strerror or exc}"
            ) from None
        self._found = asyncio.get_running_loop().create_future()
        for stream in (self._proc.stdout, self._proc.stderr):
            assert stream is not None
            self._readers.append(asyncio.create_task(self._read(stream)))
        exited: asyncio.Future[Any] = asyncio.ensure_future(self._proc.wait())
        waiting: set[asyncio.Future[Any]] = {self._found, exited}
        try:
            await asyncio.wait(waiting, timeout=wait, return_when=asyncio.FIRST_COMPLETED)
        finally:
            exited.cancel()
        if self._found.done():
            self.url = self._found.result()
            return self.url
        said = " / ".join(self._tail) or "nothing"
        code = self._proc.returncode
        await self.stop()
        if code is not None:
            raise click.ClickException(
                f"--tunnel-cmd: {argv[0]} exited (code {code}) without printing an https URL; "
                f"its last output: {said}"
            )
        raise click.ClickException(
            f"--tunnel-cmd: {argv[0]} printed no https URL (https://host, no path) within "
            f"{wait:.0f} s; its last output: {said}"
        )

    async def _read(self, stream: asyncio.StreamReader) -> None:
        while line := await stream.readline():
            text = line.decode(errors="replace").strip()
            if text:
                self._tail.append(text[:200])
            if self._found is not None and not self._found.done():
                found = origin_in(text)
                if found is not None:
                    self._found.set_result(found)

    async def ended(self) -> int:
        """Wait until the command ends by itself; its exit code."""
        proc = self._proc
        if proc is None:
            return 0
        return await proc.wait()

    async def stop(self) -> None:
        """Stop the command and whatever it started (its process group): SIGTERM, then
        SIGKILL after 5 s."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.returncode is None:
            _signal_group(proc.pid, signal.SIGTERM)
            try:
                async with asyncio.timeout(5.0):
                    await proc.wait()
            except TimeoutError:
                _signal_group(proc.pid, signal.SIGKILL)
                await proc.wait()
        elif proc is not None:
            _signal_group(proc.pid, signal.SIGTERM)  # its children may outlive it
        for reader in self._readers:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
        self._readers.clear()


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)
