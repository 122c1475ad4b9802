"""The serving half of ``ivrhooks run``: the app on uvicorn, beside it the embedded fake PBX and
the dev page when they are wanted, and the lines that tell a person where they are.

Imported by :func:`ivrhooks.cli.run.run` only once the app and its configuration have loaded and
passed their checks: uvicorn, the fake PBX and the dev page are most of the command's start-up,
and a mistake (a bad variable, a missing app file) is reported without paying for them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Callable, Iterator

import click
import uvicorn

from ivrhooks.app import IVRHooks
from ivrhooks.conf.config import Config
from ivrhooks.embedded import with_embedded_pbx
from ivrhooks.fakepbx.devui.serving import serve_dev_page
from ivrhooks.fakepbx.remote import DEFAULT_PBX
from ivrhooks.manifest import Manifest
from ivrhooks.observe.journal import CallJournal
from ivrhooks.observe.logs import flush_logging
from ivrhooks.registration.job import RegistrationJob
from ivrhooks.server.loopback import bind_socket
from ivrhooks.server.protocol import protocol_for

__all__ = ["bind", "dev_page_socket", "loop_factory", "serve"]

logger = logging.getLogger("ivrhooks")


class _Server(uvicorn.Server):
    """uvicorn, once shut down after SIGTERM or SIGINT, raises the signal again with the default
    handler, which ends the process before any ``finally`` or ``atexit``: write every buffered
    log line first."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        with super().capture_signals():
            try:
                yield
            finally:
                flush_logging()


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    # The loop uvicorn's own CLI runs on (loop="auto": uvloop when installed, as uvicorn[standard]
    # installs it). asyncio.run() alone gives the default selector loop: about 30% fewer answers
    # a second under load.
    return uvicorn.Config("ivrhooks", loop="auto", log_config=None).get_loop_factory()


def bind(what: str, option: str, host: str, port: int) -> socket.socket:
    """A socket for the ``what`` on ``host:port``, or one error naming ``option`` (the option or
    the variable that chose the address)."""
    try:
        return bind_socket(host, port)
    except OSError as exc:
        raise click.ClickException(
            f"{option}: cannot serve the {what} on {host}:{port} ({exc.strerror})"
        ) from None


def dev_page_socket(port: int, *, asked: bool) -> socket.socket | None:
    """The dev page's loopback socket. The page is a convenience: when the default port is
    taken (another app's dev page) the app runs without it, and says so; a port asked for by
    name must be had."""
    try:
        return bind_socket("127.0.0.1", port)
    except OSError as exc:
        if asked:
            raise click.ClickException(
                f"--ui-port: cannot serve the dev page on 127.0.0.1:{port} ({exc.strerror})"
            ) from None
        logger.warning(
            "dev page not served: 127.0.0.1:%d is taken (%s); pass --ui-port PORT (0: any "
            "free port)",
            port,
            exc.strerror,
        )
        return None


def _hint(manifest: Manifest, pbx_url: str) -> str:
    receptionists = manifest.receptionists
    to = receptionists[0] if receptionists else "8000"
    dtmf = [e for e in manifest.routes if e.route.kind == "DTMF" and to in e.receptionists]
    digits = dtmf[0].masks[to].example() if dtmf else "1"
    if digits == "ALL" or not digits.isdigit():
        digits = "1"
    pbx = "" if pbx_url == DEFAULT_PBX else f" --pbx {pbx_url}"
    return f"place a call: ivrhooks call --to {to} --caller 101 --digits {digits}{pbx}"


def _url(host: str, port: int, root_path: str) -> str:
    local = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104
    local = f"[{local}]" if ":" in local else local
    return f"http://{local}:{port}{root_path}"


async def serve(
    app: IVRHooks,
    config: Config,
    sock: socket.socket,
    pbx_port: int,
    root_path: str,
    level: str,
    ui: tuple[int, bool] | None = None,
    pbx_password: str | None = None,
    dev: bool = False,
) -> None:
    """``ui``: the dev page's port and whether it was asked for by name; ``None``: no page.
    ``pbx_password``: the embedded PBX's login (``None``: one generated for this process).
    ``dev``: the child of ``ivrhooks dev --pbx``: a journal and the page without the PBX."""
    host, port = sock.getsockname()[:2]
    # A long-running server: keep the startup objects out of every full GC (ServingConfig).
    config = config.replace(serving=config.serving.replace(freeze_gc=True))
    async with contextlib.AsyncExitStack() as stack:
        pbx = None
        if config.embedded_pbx:
            pbx_sock = bind("embedded PBX", "--pbx-port", "127.0.0.1", pbx_port)
            pbx_port = pbx_sock.getsockname()[1]  # --pbx-port 0: the port it got
            # The embedded PBX calls the app directly, on loopback (unless told otherwise).
            app_url = config.registration.public_url or _url(host, port, root_path)
            embedded = await stack.enter_async_context(
                with_embedded_pbx(
                    app,
                    config,
                    app_url=app_url,
                    pbx_sock=pbx_sock,
                    pbx_password=pbx_password,
                    # The development loop: each call's outcome in `ivrhooks call` and on
                    # the dev page, presence for req.presence().
                    events=True,
                )
            )
            server, pbx, config = embedded.server, embedded.pbx, embedded.config
        else:
            # The journal is kept for the development tools only: never under a plain run.
            server = app.build(config, journal=CallJournal() if dev else None)
        page = None
        if (pbx is not None or dev) and ui is not None:
            ui_sock = dev_page_socket(ui[0], asked=ui[1])
            if ui_sock is not None:
                stack.callback(ui_sock.close)
                page = await stack.enter_async_context(serve_dev_page(pbx, server.runtime, ui_sock))
        # Fail now, with the reason, not inside uvicorn's startup; serving only (no PBX, or
        # IVRHOOKS_REGISTER=false) needs no public URL: nothing is registered.
        if config.registers:
            RegistrationJob.of(config, server.runtime.manifest)
        uvicorn_config = uvicorn.Config(
            server,
            root_path=root_path,
            log_level=level,
            lifespan="on",
            # JSON logs from configure_logging(); no access log: GET action URLs carry caller
            # numbers in the query string.
            log_config=None,
            access_log=False,
            # X-Forwarded-For is read by ivrhooks' own guard, from IVRHOOKS_TRUSTED_PROXIES only;
            # uvicorn's proxy-header rewrite would trust its own list in addition.
            proxy_headers=False,
            # Header limits and a read timeout before the app sees a byte, and a decision
            # leaving in one send() (server/protocol.py).
            http=protocol_for(config.serving),
        )
        uvicorn_server = _Server(uvicorn_config)
        signals = server.runtime.signals

        async def stop_when_told() -> None:
            # A service found that the app cannot run as configured (another app's action URLs
            # answer the same input): stop serving, and say why on the way out.
            await signals.stopping.wait()
            uvicorn_server.should_exit = True

        watcher = asyncio.create_task(stop_when_told())
        stack.callback(watcher.cancel)
        click.echo(f"serving on {_url(host, port, root_path)}")
        if pbx is not None:
            assert config.pbx is not None
            # Printed even when chosen: `ivrhooks dev` chooses it for its child, and this line is
            # how a person learns it. It opens a throwaway fake on loopback, nothing else.
            click.echo(
                f"embedded fake PBX: {config.pbx.url} (login {pbx.username} / {pbx.password})"
            )
            click.echo(_hint(server.runtime.manifest, pbx.url or DEFAULT_PBX))
        if page is not None:
            shown = "dev phone, live calls" if pbx is not None else "live calls"
            click.echo(f"dev page: {page}  (call-flow map, {shown})")
        try:
            await uvicorn_server.serve(sockets=[sock])
        except SystemExit:
            # uvicorn exits (status 3) when the lifespan's startup fails: say why in one line.
            if server.startup_error is None:
                raise
        if server.startup_error is not None:
            raise click.ClickException(server.startup_error)
        if signals.stop_reason is not None:
            raise click.ClickException(signals.stop_reason)
        if not uvicorn_server.started:
            raise click.ClickException("the app did not start; see the log above")
