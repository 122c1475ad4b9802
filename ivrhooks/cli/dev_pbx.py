"""``ivrhooks dev APP --pbx URL --receptionist EXT``: the dev loop against a real PBX.

The app runs as under plain ``ivrhooks dev`` (a ``run`` child restarted on every change), but
calls come from the PBX, so the prompt places none and the child serves no fake PBX: it serves
the app at the session's public URL (``--public-url``, ``IVRHOOKS_PUBLIC_URL``, or the URL a
``--tunnel-cmd`` prints, :mod:`.dev_tunnel`), keeps the call journal for the dev page, and
registers nothing itself (``IVRHOOKS_REGISTER=false``, no PBX login in its environment). The
loop owns the session's dev entries (:mod:`.dev_session`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import click

from ivrhooks.cli.dev_child import Child, prompt, read_stdin, watch
from ivrhooks.cli.dev_prompt import Dial, PromptError, SwitchTo, parse_line
from ivrhooks.cli.dev_session import DevSession, session_env, stop_on_signals
from ivrhooks.cli.dev_tunnel import Tunnel
from ivrhooks.cli.loader import locate_app
from ivrhooks.conf.config import PBXConfig
from ivrhooks.conf.settings import read_group
from ivrhooks.errors import ConfigurationError

__all__ = ["RealPBX", "dev_pbx", "extension", "real_pbx", "stop_watching"]


def extension(value: str, option: str) -> str:
    try:
        command = parse_line(f"to {value}")
    except PromptError as exc:
        raise click.BadParameter(str(exc).removeprefix("to: "), param_hint=option) from None
    assert isinstance(command, SwitchTo)
    return command.extension


def _public_url(value: str, where: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or "@" in parts.netloc:
        raise click.BadParameter(
            f"{value!r} is not the http(s) URL the PBX reaches the app at, e.g. "
            "https://ivr-dev.example.com",
            param_hint=where,
        )
    return value.rstrip("/")


def real_pbx(
    pbx: str,
    receptionists: tuple[str, ...],
    public_url: str | None,
    tunnel_cmd: str | None,
    force: bool,
) -> RealPBX:
    """Check ``--pbx`` and its options before anything starts; the login from the shell."""
    if not receptionists:
        raise click.UsageError(
            "--pbx: name the receptionist(s) to register the app's routes on as dev entries, "
            "e.g. --receptionist 8999 (only those are touched)"
        )
    try:
        login = {field: value for field, (_, value) in read_group("pbx", os.environ).items()}
        config = PBXConfig(**{**login, "url": pbx})
    except ConfigurationError as exc:
        said = str(exc).replace(f"PBXConfig(url={pbx!r})", "--pbx")
        raise click.BadParameter(said.removeprefix("--pbx: "), param_hint="--pbx") from None
    if not config.token and not (config.username and config.password):
        raise click.UsageError(
            f"--pbx: the PBX at {config.url} needs a login: set IVRHOOKS_PBX_USERNAME and "
            "IVRHOOKS_PBX_PASSWORD (and IVRHOOKS_PBX_DOMAIN for a tenant), or IVRHOOKS_PBX_TOKEN"
        )
    if public_url is not None and tunnel_cmd is not None:
        raise click.UsageError("--public-url and --tunnel-cmd: give one (the tunnel's URL is used)")
    if public_url is None and tunnel_cmd is None:
        from_env = os.environ.get("IVRHOOKS_PUBLIC_URL", "").strip()
        if not from_env:
            raise click.UsageError(
                "--pbx: the PBX must reach this app: pass --public-url URL (or set "
                "IVRHOOKS_PUBLIC_URL) for an address that reaches --port, or --tunnel-cmd CMD, "
                'e.g. --tunnel-cmd "cloudflared tunnel --url http://localhost:8080"'
            )
        public_url = _public_url(from_env, "IVRHOOKS_PUBLIC_URL")
    elif public_url is not None:
        public_url = _public_url(public_url, "--public-url")
    numbers = tuple(dict.fromkeys(extension(r, "--receptionist") for r in receptionists))
    return RealPBX(config, numbers, public_url, tunnel_cmd, force)


@dataclass(frozen=True)
class RealPBX:
    """What ``--pbx`` and its options asked for."""

    pbx: PBXConfig
    receptionists: tuple[str, ...]
    public_url: str | None
    tunnel_cmd: str | None
    force: bool


async def _unless_stopped(work: Coroutine[Any, Any, str], stop: asyncio.Event) -> str | None:
    """``work``'s result, or ``None`` once ``stop`` is set first (``work`` is cancelled)."""
    task = asyncio.ensure_future(work)
    stopped = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopped.cancel()
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    return None if task.cancelled() else task.result()


async def _tunnel_ended(tunnel: Tunnel, stop: asyncio.Event) -> None:
    code = await tunnel.ended()
    click.echo(
        f"the tunnel command exited (code {code}): the PBX cannot reach the app any more; "
        "ending the session",
        err=True,
    )
    stop.set()


async def dev_pbx(app_spec: str, port: int, log_level: str, page: list[str], real: RealPBX) -> None:
    paths = list(locate_app(app_spec).watch)
    stop = asyncio.Event()
    stop_on_signals(stop)
    tunnel = Tunnel(real.tunnel_cmd) if real.tunnel_cmd else None
    child: Child | None = None
    session: DevSession | None = None
    tasks: list[asyncio.Task[None]] = []
    try:
        public_url = real.public_url
        if tunnel is not None:
            click.echo(f"ivrhooks dev: starting the tunnel: {real.tunnel_cmd}")
            public_url = await _unless_stopped(tunnel.start(), stop)
            if public_url is None:
                return  # Ctrl-C while it started: it is stopped below
        assert public_url is not None
        click.echo(f"ivrhooks dev: the PBX calls the app at {public_url}")
        child_env_, pass_env = session_env(os.environ, public_url=public_url, pbx=real.pbx)
        cmd = [sys.executable, "-m", "ivrhooks", "run", app_spec, "--dev"]
        cmd += ["--port", str(port), "--log-level", log_level, *page]
        child = Child(cmd, child_env_, port, None)
        session = DevSession(
            app_spec, real.pbx, real.receptionists, public_url, pass_env, real.force
        )
        where = ", ".join(real.receptionists)
        note = (
            f"calls come from the PBX at {real.pbx.url}: dial receptionist {where} from a phone "
            "(this prompt places none); `quit`, Ctrl-D or Ctrl-C ends the session and removes "
            "its dev entries"
        )
        click.echo(f"ivrhooks dev: {note}")
        await child.start()
        await session.register(first=True)
        tasks.append(asyncio.create_task(watch(paths, child, stop, after=session.register)))
        tasks.append(asyncio.create_task(session.renew()))
        if tunnel is not None:
            tasks.append(asyncio.create_task(_tunnel_ended(tunnel, stop)))
        click.echo(f"ivrhooks dev: reloading on .py changes under {', '.join(map(str, paths))}")
        lines: asyncio.Queue[str | None] = asyncio.Queue()
        read_stdin(asyncio.get_running_loop(), lines)

        async def no_call(_: Dial) -> None:
            click.echo(note)

        await prompt(lines, stop, help_text=note, dial=no_call, switch=lambda _: click.echo(note))
    finally:
        stop.set()
        for task in tasks[1:]:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if tasks:
            await stop_watching(tasks[0])
        if child is not None:
            await child.stop()
        if session is not None:
            await session.remove()
        if tunnel is not None:
            await tunnel.stop()


async def stop_watching(watcher: asyncio.Task[None]) -> None:
    """Wait (up to 5 s) for the file watcher to end after its stop event was set."""
    try:
        await asyncio.wait_for(watcher, 5.0)
    except (Exception, asyncio.CancelledError) as exc:  # leave anyway; the child must go
        if not isinstance(exc, asyncio.CancelledError | TimeoutError):
            click.echo(f"file watching failed: {exc!r}", err=True)
