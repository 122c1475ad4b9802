"""``ivrhooks dev APP``: ``ivrhooks run`` with the embedded PBX, reloaded on change, plus a prompt.

A supervisor: the app runs as a child ``python -m ivrhooks run APP`` (so a reload is a fresh
interpreter, with no stale modules, and the child's embedded PBX is repopulated and re-registered
on each start); ``watchfiles`` watches the app's directory (or its package) and restarts the child
when a ``.py`` file changes; the prompt reads calls from stdin and places them through the
child's embedded PBX, printing what ``ivrhooks call`` prints.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import subprocess
import sys
import threading
from pathlib import Path

import click
import watchfiles

from ivrhooks.cli.call import describe
from ivrhooks.cli.dev_prompt import (
    HELP,
    Dial,
    Help,
    Nothing,
    PromptError,
    Quit,
    SwitchTo,
    parse_line,
)
from ivrhooks.cli.group import main
from ivrhooks.cli.loader import locate_app
from ivrhooks.cli.run import DEFAULT_UI_PORT
from ivrhooks.errors import IVRHooksError, PBXError
from ivrhooks.fakepbx import DEFAULT_USERNAME
from ivrhooks.fakepbx.embedded import generate_password
from ivrhooks.fakepbx.remote import ReadyProbe, place_call
from ivrhooks.pbx.client import PBXClient
from ivrhooks.server.loopback import free_port

__all__ = ["child_env", "dev", "watch_paths"]

PBX_LOGIN_VARIABLE = "IVRHOOKS_EMBEDDED_PBX_PASSWORD"  # `ivrhooks run --pbx-password`
READY_WAIT = 30.0  # seconds a call waits for the (re)starting app before giving up
_POLL = 0.1  # seconds between /readyz polls while the child starts (another process: no event)


def watch_paths(app_spec: str) -> list[Path]:
    """The directories to watch for APP: where ``ivrhooks run`` loads it from (``locate_app``),
    a lone file's directory or the whole of the package it is in."""
    return list(locate_app(app_spec).watch)


def child_env(environ: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """The child's environment, and the names of the variables left out of it.

    The dev loop always uses the embedded PBX, which calls the app on loopback: a real PBX's
    login or a public URL from the shell would send registrations and calls elsewhere.
    """
    dropped = sorted(
        name
        for name in environ
        if name.startswith("IVRHOOKS_PBX_")
        or name
        in ("IVRHOOKS_PUBLIC_URL", "IVRHOOKS_EMBEDDED_PBX", "IVRHOOKS_PORT", "IVRHOOKS_HOST")
    )
    env = {name: value for name, value in environ.items() if name not in dropped}
    # An edit that keeps a file's size within the same second would otherwise reuse the stale
    # bytecode that the previous child cached (pyc files are checked by mtime seconds and size).
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    # One secret for the whole session: the embedded PBX is the only one that sees it, and the
    # app's "generated a random secret" warning on every reload says nothing useful here.
    env.setdefault("IVRHOOKS_SECRET", secrets.token_urlsafe(32))
    # Asked for explicitly: a secret (ours or the shell's) alone would otherwise say "production".
    env["IVRHOOKS_EMBEDDED_PBX"] = "true"
    # The embedded PBX's login, chosen here so this process can list the receptionists on it
    # (the child would generate one of its own; no web page can know either).
    env.setdefault(PBX_LOGIN_VARIABLE, generate_password())
    return env, dropped


class Child:
    """The ``ivrhooks run`` child process: start, stop, and know when it is ready or down."""

    def __init__(self, cmd: list[str], env: dict[str, str], port: int, pbx_port: int) -> None:
        self.cmd, self.env = cmd, env
        self.ready_url = f"http://127.0.0.1:{port}/readyz"
        self.pbx_api = f"http://127.0.0.1:{pbx_port}/api"
        self.pbx_password = env[PBX_LOGIN_VARIABLE]
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


def _read_stdin(loop: asyncio.AbstractEventLoop, lines: asyncio.Queue[str | None]) -> None:
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


async def _watch(paths: list[Path], child: Child, stop: asyncio.Event) -> None:
    async for changes in watchfiles.awatch(
        *paths, watch_filter=watchfiles.PythonFilter(), stop_event=stop
    ):
        child.going_down()
        names = ", ".join(sorted({Path(path).name for _, path in changes}))
        click.echo(f"reloading (changed: {names})")
        await child.stop()
        await child.start()


async def _call(child: Child, to: str | None, dial: Dial) -> None:
    await child.wait_ready(READY_WAIT)
    to = to or (child.receptionists[0] if child.receptionists else None)
    if to is None:
        raise click.ClickException("the app has no receptionist; pick one with `to EXT`")
    pbx = child.pbx_api.removesuffix("/api")
    keys: str | list[str] = [dial.digits, *dial.more] if dial.more else dial.digits
    result = await asyncio.to_thread(place_call, pbx, to=to, caller=dial.caller, digits=keys)
    line, _ = describe(result, to=to, caller=dial.caller, digits=dial.digits)
    click.echo(line)


async def _dev(
    app_spec: str, port: int, pbx_port: int, to: str | None, log_level: str, page: list[str]
) -> None:
    paths = watch_paths(app_spec)
    env, dropped = child_env(dict(os.environ))
    if dropped:
        click.echo(f"ivrhooks dev uses the embedded PBX; ignoring {', '.join(dropped)}", err=True)
    cmd = [sys.executable, "-m", "ivrhooks", "run", app_spec]
    cmd += ["--port", str(port), "--pbx-port", str(pbx_port), "--log-level", log_level, *page]
    child = Child(cmd, env, port, pbx_port)
    lines: asyncio.Queue[str | None] = asyncio.Queue()
    _read_stdin(asyncio.get_running_loop(), lines)
    stop = asyncio.Event()
    await child.start()
    watcher = asyncio.create_task(_watch(paths, child, stop))
    click.echo(f"ivrhooks dev: reloading on .py changes under {', '.join(map(str, paths))}")
    click.echo(HELP)
    try:
        while (line := await lines.get()) is not None:
            try:
                command = parse_line(line)
                if isinstance(command, Quit):
                    break
                if isinstance(command, Help):
                    click.echo(HELP)
                elif isinstance(command, SwitchTo):
                    to = command.extension
                    click.echo(f"calls now go to receptionist {to}")
                elif isinstance(command, Dial):
                    await _call(child, to, command)
                else:
                    assert isinstance(command, Nothing)
            except (PromptError, click.ClickException, IVRHooksError) as exc:
                message = exc.format_message() if isinstance(exc, click.ClickException) else exc
                click.echo(f"error: {message}")
    finally:
        stop.set()
        try:
            await asyncio.wait_for(watcher, 5.0)
        except (Exception, asyncio.CancelledError) as exc:  # leave anyway; the child must go
            if not isinstance(exc, asyncio.CancelledError | TimeoutError):
                click.echo(f"file watching failed: {exc!r}", err=True)
        finally:
            await child.stop()


@main.command()
@click.argument("app_spec", metavar="APP")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--pbx-port",
    default=8887,
    show_default=True,
    type=click.IntRange(1, 65535),
    help="Port of the embedded fake PBX.",
)
@click.option(
    "--ui-port",
    default=DEFAULT_UI_PORT,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Loopback port of the dev page (0: any free port, the same across reloads).",
)
@click.option("--ui/--no-ui", default=True, help="Serve the dev page [default: --ui].")
@click.option("--to", metavar="EXT", help="Receptionist to call [default: the app's first].")
@click.option("--log-level", default="warning", show_default=True, help="The app's log level.")
@click.pass_context
def dev(
    ctx: click.Context,
    app_spec: str,
    port: int,
    pbx_port: int,
    ui_port: int,
    ui: bool,
    to: str | None,
    log_level: str,
) -> None:
    """Run APP with the embedded PBX, reload it on change, and place calls from a prompt.

    The app's dev page (call-flow map, dev phone, live calls) is served by each start of the
    app on 127.0.0.1:--ui-port; an open page reconnects after a reload and redraws its map."""
    if to is not None:
        try:
            command = parse_line(f"to {to}")
        except PromptError as exc:
            raise click.BadParameter(str(exc).removeprefix("to: "), param_hint="--to") from None
        assert isinstance(command, SwitchTo)
        to = command.extension
    # The child decides about the default port (a warning if taken); one asked for is passed on,
    # and 0 is resolved here once, so the page keeps its URL across reloads.
    page = ["--no-ui"]
    if ui:
        asked = ctx.get_parameter_source("ui_port") is not click.core.ParameterSource.DEFAULT
        page = ["--ui-port", str(ui_port or free_port())] if asked else []
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_dev(app_spec, port, pbx_port, to, log_level, page))
