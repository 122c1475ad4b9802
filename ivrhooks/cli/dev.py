"""``ivrhooks dev APP``: ``ivrhooks run`` with the embedded PBX, reloaded on change, plus a prompt.

A supervisor: the app runs as a child ``python -m ivrhooks run APP`` (so a reload is a fresh
interpreter, with no stale modules, and the child's embedded PBX is repopulated and re-registered
on each start); ``watchfiles`` watches the app's directory (or its package) and restarts the child
when a ``.py`` file changes; the prompt reads calls from stdin and places them through the
child's embedded PBX, printing what ``ivrhooks call`` prints.

With ``--pbx URL --receptionist EXT`` the same loop runs against a real PBX: the session's
dev entries are registered on the named receptionists, follow each reload and are removed at
the end (:mod:`.dev_pbx`); calls come from the PBX, so the prompt places none.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import sys
from pathlib import Path

import click

from ivrhooks.cli.call import describe
from ivrhooks.cli.dev_child import PBX_LOGIN_VARIABLE, Child, prompt, read_stdin, watch
from ivrhooks.cli.dev_pbx import dev_pbx, extension, real_pbx, stop_watching
from ivrhooks.cli.dev_prompt import HELP, Dial
from ivrhooks.cli.group import main
from ivrhooks.cli.loader import locate_app
from ivrhooks.cli.run import DEFAULT_UI_PORT
from ivrhooks.fakepbx.embedded import generate_password
from ivrhooks.fakepbx.remote import place_call
from ivrhooks.server.loopback import free_port

__all__ = ["child_env", "dev", "watch_paths"]

READY_WAIT = 30.0  # seconds a call waits for the (re)starting app before giving up


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


async def _call(child: Child, to: str | None, dial: Dial) -> None:
    await child.wait_ready(READY_WAIT)
    to = to or (child.receptionists[0] if child.receptionists else None)
    if to is None:
        raise click.ClickException("the app has no receptionist; pick one with `to EXT`")
    assert child.pbx_api is not None
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
    read_stdin(asyncio.get_running_loop(), lines)
    stop = asyncio.Event()
    await child.start()
    watcher = asyncio.create_task(watch(paths, child, stop))
    click.echo(f"ivrhooks dev: reloading on .py changes under {', '.join(map(str, paths))}")
    click.echo(HELP)

    def switch(extension: str) -> None:
        nonlocal to
        to = extension
        click.echo(f"calls now go to receptionist {to}")

    try:
        await prompt(lines, stop, help_text=HELP, dial=lambda d: _call(child, to, d), switch=switch)
    finally:
        stop.set()
        try:
            await stop_watching(watcher)
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
@click.option(
    "--pbx",
    metavar="URL",
    help="Develop against this real PBX (its REST API, e.g. https://pbx.example.com:8887/api; "
    "login from IVRHOOKS_PBX_USERNAME/IVRHOOKS_PBX_PASSWORD[/IVRHOOKS_PBX_DOMAIN] or "
    "IVRHOOKS_PBX_TOKEN) instead of the embedded one.",
)
@click.option(
    "--receptionist",
    "receptionists",
    metavar="EXT",
    multiple=True,
    help="With --pbx: a receptionist to register the app's routes on as dev entries "
    "(repeatable; no other is touched).",
)
@click.option(
    "--public-url",
    metavar="URL",
    help="With --pbx: where the PBX reaches --port [default: IVRHOOKS_PUBLIC_URL].",
)
@click.option(
    "--tunnel-cmd",
    metavar="CMD",
    help="With --pbx: a command that makes --port public and prints its https URL, run for "
    'the session, e.g. "cloudflared tunnel --url http://localhost:8080".',
)
@click.option(
    "--force",
    is_flag=True,
    help="With --pbx: register beside this app's production entries on a receptionist, and "
    "replace another session's dev entries of this app.",
)
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
    pbx: str | None,
    receptionists: tuple[str, ...],
    public_url: str | None,
    tunnel_cmd: str | None,
    force: bool,
) -> None:
    """Run APP with the embedded PBX, reload it on change, and place calls from a prompt.

    The app's dev page (call-flow map, dev phone, live calls) is served by each start of the
    app on 127.0.0.1:--ui-port; an open page reconnects after a reload and redraws its map.

    With --pbx URL --receptionist EXT, against a real PBX: the app's routes are registered on
    those receptionists as dev entries (named ivrhooks-dev:..., with an expiry), follow every
    reload and are removed when the session ends; dial the receptionist from a phone."""
    if to is not None:
        if pbx is not None:
            raise click.BadParameter("with --pbx, calls come from the PBX", param_hint="--to")
        to = extension(to, "--to")
    real = None
    if pbx is not None:
        real = real_pbx(pbx, receptionists, public_url, tunnel_cmd, force)
    else:
        given = {
            "--receptionist": bool(receptionists),
            "--public-url": public_url is not None,
            "--tunnel-cmd": tunnel_cmd is not None,
            "--force": force,
        }
        for option, is_given in given.items():
            if is_given:
                raise click.BadParameter("only with --pbx URL (a real PBX)", param_hint=option)
    # The child decides about the default port (a warning if taken); one asked for is passed on,
    # and 0 is resolved here once, so the page keeps its URL across reloads.
    page = ["--no-ui"]
    if ui:
        asked = ctx.get_parameter_source("ui_port") is not click.core.ParameterSource.DEFAULT
        page = ["--ui-port", str(ui_port or free_port())] if asked else []
    with contextlib.suppress(KeyboardInterrupt):
        if real is not None:
            asyncio.run(dev_pbx(app_spec, port, log_level, page, real))
        else:
            asyncio.run(_dev(app_spec, port, pbx_port, to, log_level, page))
