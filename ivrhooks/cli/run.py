"""``ivrhooks run APP``: serve the app with uvicorn and register its action URLs.

With no PBX configured (``IVRHOOKS_PBX_URL`` unset) the fake PBX runs in the same process and
event loop, on ``127.0.0.1:--pbx-port`` (8887, PortSIP's REST port), holding the app's
receptionists; the app registers against it and ``ivrhooks call`` places calls through it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import click
import uvicorn

from ivrhooks.app import IVRHooks
from ivrhooks.cli import main
from ivrhooks.cli.loader import load_app
from ivrhooks.errors import ConfigurationError
from ivrhooks.logs import configure_logging
from ivrhooks.registration import desired_state
from ivrhooks.testing import FakePBX, bind_socket
from ivrhooks.testing.harness import embedded_pbx

__all__ = ["run"]


@contextlib.asynccontextmanager
async def _embedded(app: IVRHooks, port: int) -> AsyncIterator[FakePBX]:
    try:
        sock = bind_socket("127.0.0.1", port)
    except OSError as exc:
        raise click.ClickException(
            f"cannot serve the embedded PBX on 127.0.0.1:{port} ({exc.strerror}); "
            "pass --pbx-port, or set IVRHOOKS_PBX_URL to use a real PBX"
        ) from None
    async with embedded_pbx(app, sock) as pbx:
        yield pbx


def _hint(app: IVRHooks, pbx_port: int) -> str:
    receptionists = app.table.all_receptionists()
    to = receptionists[0] if receptionists else "8000"
    dtmf = [r for r in app.routes if r.kind == "DTMF" and to in app.table.receptionists_of(r)]
    digits = dtmf[0].mask.example() if dtmf else "1"
    if digits == "ALL" or not digits.isdigit():
        digits = "1"
    pbx = "" if pbx_port == 8887 else f" --pbx http://127.0.0.1:{pbx_port}"
    return f"place a call: ivrhooks call --to {to} --caller 101 --digits {digits}{pbx}"


async def _serve(
    app: IVRHooks, host: str, port: int, pbx_port: int, root_path: str, log_level: str
) -> None:
    # A long-running server: keep the startup objects out of every full GC (see IVRHooks).
    app.freeze_gc = True
    async with contextlib.AsyncExitStack() as stack:
        embedded = app.config.pbx is None
        if embedded:
            await stack.enter_async_context(_embedded(app, pbx_port))
            if not app.config.public_url:
                # The embedded PBX calls the app directly, on loopback.
                local = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104
                local = f"[{local}]" if ":" in local else local
                app.config.public_url = f"http://{local}:{port}{root_path}"
        try:
            desired_state(app)  # fail now, with the reason, not inside uvicorn's startup
        except ConfigurationError as exc:
            raise click.ClickException(str(exc)) from None
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            root_path=root_path,
            log_level=log_level,
            lifespan="on",
            # JSON logs from configure_logging(); no access log: GET action URLs carry caller
            # numbers in the query string.
            log_config=None,
            access_log=False,
            # X-Forwarded-For is read by ivrhooks' own guard, from IVRHOOKS_TRUSTED_PROXIES only;
            # uvicorn's proxy-header rewrite would trust its own list in addition.
            proxy_headers=False,
        )
        server = uvicorn.Server(config)
        if embedded:
            assert app.config.pbx is not None
            click.echo(f"embedded fake PBX: {app.config.pbx.url} (login admin / fakepbx)")
            click.echo(_hint(app, pbx_port))
        await server.serve()
        if not server.started:
            raise click.ClickException("the app did not start; see the log above")


@main.command()
@click.argument("app_spec", metavar="APP")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to serve on.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--pbx-port",
    default=8887,
    show_default=True,
    type=click.IntRange(1, 65535),
    help="Port of the embedded fake PBX (used when IVRHOOKS_PBX_URL is unset).",
)
@click.option("--root-path", default="", help="Path prefix when served behind a proxy.")
@click.option("--log-level", default="info", show_default=True)
def run(app_spec: str, host: str, port: int, pbx_port: int, root_path: str, log_level: str) -> None:
    """Serve APP and register its action URLs on the PBX (an embedded fake one by default)."""
    if root_path and (not root_path.startswith("/") or root_path.endswith("/")):
        raise click.BadParameter(
            "start it with '/' and do not end it with '/'", param_hint="--root-path"
        )
    configure_logging(log_level.upper())
    try:
        app = load_app(app_spec)
    except ConfigurationError as exc:
        raise click.ClickException(str(exc)) from None
    asyncio.run(_serve(app, host, port, pbx_port, root_path.rstrip("/"), log_level))
