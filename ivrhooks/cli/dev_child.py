"""The pieces of ``ivrhooks dev``'s loop: its ``ivrhooks run`` child, stdin read without
blocking the loop, and the file watcher that restarts the child."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path

import click
import watchfiles

from ivrhooks.cli.dev_prompt import Dial, Help, Nothing, PromptError, Quit, SwitchTo, parse_line
from ivrhooks.errors import IVRHooksError, PBXError
from ivrhooks.fakepbx import DEFAULT_USERNAME
from ivrhooks.fakepbx.remote import ReadyProbe
from ivrhooks.pbx.client import PBXClient

__all__ = ["PBX_LOGIN_VARIABLE", "Child", "prompt", "read_stdin", "watch"]

PBX_LOGIN_VARIABLE = "IVRHOOKS_EMBEDDED_PBX_PASSWORD"  # `ivrhooks run --pbx-password`
_POLL = 0.1  # seconds between /readyz polls while the child starts (another process: no event)


class Child:
    """The ``ivrhooks run`` child process: start, stop, and know when it is ready or down."""

    def __init__(
        self, cmd: list[str], env: dict[str, str], port: int, pbx_port: int | None
    ) -> None:
        """``pbx_port``: the child's embedded PBX, whose receptionists it learns at each start
        (``None``: a real PBX places the calls, ``ivrhooks dev --pbx``)."""
        self.cmd, self.env = cmd, env
        self.ready_url = f"http://127.0.0.1:{port}/readyz"
        self.pbx_api = f"http://127.0.0.1:{pbx_port}/api" if pbx_port is not None else None
        self.pbx_password = env.get(PBX_LOGIN_VARIABLE, "")
        self.ready = asyncio.Event()
        self.down = asyncio.Event()
        self.receptionists: list[str] = []
        self._proc: asyncio.subprocess.Process | None = None
        self._watch: asyncio.Task[None] | None = None

    def going_down(self) -> None:
        """Mark the app not ready now, before an await, so no call slips in during a restart."""
        self.ready.clear()
        self.down.clear()

    async def start(self) -> None:
        self.going_down()
        self._proc = await asyncio.create_subprocess_exec(
            *self.cmd, env=self.env, stdin=subprocess.DEVNULL
        )
        self._watch = asyncio.create_task(self._follow(self._proc))

    async def stop(self) -> None:
        self.going_down()
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
        proc, self._proc = self._proc, None
        if proc is None or proc.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            proc.terminate()  # uvicorn shuts down gracefully on SIGTERM
        try:
            async with asyncio.timeout(10.0):
                await proc.wait()
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()

    async def wait_ready(self, limit: float) -> None:
        """Return once the app is ready; ``click.ClickException`` says why it is not."""
        waits = [asyncio.ensure_future(self.ready.wait()), asyncio.ensure_future(self.down.wait())]
        try:
            await asyncio.wait(waits, timeout=limit, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in waits:
                task.cancel()
        if self.ready.is_set():
            return
        if self.down.is_set():
            raise click.ClickException(
                "the app is not running: fix the error above and save a file to reload"
            )
        raise click.ClickException(f"the app is not ready after {limit:.0f} s; see its log")

    async def _follow(self, proc: asyncio.subprocess.Process) -> None:
        async with ReadyProbe(self.ready_url) as probe:
            while proc.returncode is None and not self.ready.is_set():
                if await probe.ready():
                    if self.pbx_api is not None:
                        await self._learn_receptionists()
                    self.ready.set()
                    break
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(_POLL):
                        await proc.wait()
        code = await proc.wait()
        self.going_down()
        self.down.set()
        click.echo(f"the app exited (code {code}); save a file to reload it", err=True)

    async def _learn_receptionists(self) -> None:
        assert self.pbx_api is not None
        try:
            async with PBXClient(
                self.pbx_api, username=DEFAULT_USERNAME, password=self.pbx_password
            ) as pbx:
                self.receptionists = [
                    ivr.extension_number async for ivr in pbx.ivrs.list() if ivr.extension_number
                ]
        except PBXError:
            self.receptionists = []
            click.echo(
                f"no embedded PBX answers at {self.pbx_api}: does the app's code set pbx_url? "
                "`ivrhooks dev` places calls through the embedded PBX only",
                err=True,
            )


def read_stdin(loop: asyncio.AbstractEventLoop, lines: asyncio.Queue[str | None]) -> None:
    # A daemon thread, not asyncio.to_thread: a thread blocked reading must not keep the process
    # (or asyncio.run's executor shutdown) waiting after `quit` or Ctrl-C. os.read, not
    # sys.stdin: a daemon thread holding sys.stdin's buffer lock aborts interpreter shutdown.
    def post(line: str | None) -> bool:
        try:
            loop.call_soon_threadsafe(lines.put_nowait, line)
        except RuntimeError:  # the loop is closed: dev is leaving
            return False
        return True

    def read() -> None:
        pending = b""
        try:
            fd = sys.stdin.fileno()
            while chunk := os.read(fd, 4096):
                *complete, pending = (pending + chunk).split(b"\n")
                for raw in complete:
                    if not post(raw.decode(errors="replace")):
                        return
        except (OSError, ValueError, AttributeError):  # no stdin at all: treat as end of input
            pass
        if pending:
            post(pending.decode(errors="replace"))
        post(None)

    threading.Thread(target=read, name="ivrhooks-dev-stdin", daemon=True).start()


async def watch(
    paths: list[Path],
    child: Child,
    stop: asyncio.Event,
    after: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Restart ``child`` whenever a ``.py`` file under ``paths`` changes, then run ``after``
    (``ivrhooks dev --pbx`` registers the new routes there), until ``stop`` is set."""
    async for changes in watchfiles.awatch(
        *paths, watch_filter=watchfiles.PythonFilter(), stop_event=stop
    ):
        child.going_down()
        names = ", ".join(sorted({Path(path).name for _, path in changes}))
        click.echo(f"reloading (changed: {names})")
        await child.stop()
        await child.start()
        if after is not None:
            await after()


async def _next_line(lines: asyncio.Queue[str | None], stop: asyncio.Event) -> str | None:
    """The next typed line; ``None`` at the end of input or once ``stop`` is set."""
    get = asyncio.ensure_future(lines.get())
    ended = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({get, ended}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        ended.cancel()
        if not get.done():
            get.cancel()  # Queue.get gives nothing up when cancelled: no line is lost
    return None if stop.is_set() or get.cancelled() else get.result()


async def prompt(
    lines: asyncio.Queue[str | None],
    stop: asyncio.Event,
    *,
    help_text: str,
    dial: Callable[[Dial], Awaitable[None]],
    switch: Callable[[str], None],
) -> None:
    """Read and run typed lines until ``quit``, the end of input or ``stop``."""
    while (line := await _next_line(lines, stop)) is not None:
        try:
            command = parse_line(line)
            if isinstance(command, Quit):
                return
            if isinstance(command, Help):
                click.echo(help_text)
            elif isinstance(command, SwitchTo):
                switch(command.extension)
            elif isinstance(command, Dial):
                await dial(command)
            else:
                assert isinstance(command, Nothing)
        except (PromptError, click.ClickException, IVRHooksError) as exc:
            message = exc.format_message() if isinstance(exc, click.ClickException) else exc
            click.echo(f"error: {message}")
