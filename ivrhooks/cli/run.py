"""``ivrhooks run APP``: serve the app with uvicorn and register its action URLs.

With no PBX configured (``IVRHOOKS_PBX_URL`` unset) the fake PBX runs in the same process and
event loop, on ``127.0.0.1:--pbx-port`` (8887, PortSIP's REST port), holding the app's
receptionists; the app registers against it and ``ivrhooks call`` places calls through it. Its
REST login is generated per process and printed (``--pbx-password`` or
``IVRHOOKS_EMBEDDED_PBX_PASSWORD`` chooses one: ``ivrhooks dev`` passes its own down).
Beside it, on ``127.0.0.1:--ui-port`` (8888), the dev page: the call-flow map, a dev phone and
the live call list (:mod:`ivrhooks.fakepbx.devui`). Never with a real PBX, except as the child
of ``ivrhooks dev --pbx`` (the hidden ``--dev``): it registers nothing, keeps the call journal
and serves the page without a phone, the live list fed from the journal.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

import click

from ivrhooks.cli.group import main
from ivrhooks.cli.loader import load_app
from ivrhooks.conf.settings import read_group
from ivrhooks.observe.logs import close_logging, configure_logging

__all__ = ["DEFAULT_UI_PORT", "run"]

DEFAULT_UI_PORT = 8888


def _from_environment(ctx: click.Context) -> dict[str, tuple[str, Any]]:
    """The ``IVRHOOKS_*`` variables of ``ivrhooks run`` (RunSettings) that are set, for the
    options the command line left to their defaults: ``{option: (variable, value)}``. A bad
    value raises ``ConfigurationError`` naming the variable (the app's configure() has already
    reported it with the others, when the app reads the environment)."""
    given = read_group("run", os.environ)
    return {
        field: found
        for field, found in given.items()
        if ctx.get_parameter_source(field) in (None, click.core.ParameterSource.DEFAULT)
    }


@main.command()
@click.argument("app_spec", metavar="APP")
# IVRHOOKS_HOST, IVRHOOKS_PORT and IVRHOOKS_EMBEDDED_PBX_PASSWORD are read through their
# declarations (RunSettings, `_from_environment`), not click's envvar=: a bad value is then
# reported as every other variable is, naming the variable rather than the option.
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to serve on [env: IVRHOOKS_HOST].",
)
@click.option(
    "--port",
    default=8080,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port to serve on (0: any free port, printed at startup) [env: IVRHOOKS_PORT].",
)
@click.option(
    "--pbx-port",
    default=8887,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port of the embedded fake PBX (used when IVRHOOKS_PBX_URL is unset; 0: any free port).",
)
@click.option(
    "--pbx-password",
    help="Password of the embedded fake PBX's REST API (login admin) [default: generated per "
    "process and printed; env: IVRHOOKS_EMBEDDED_PBX_PASSWORD].",
)
@click.option(
    "--embedded-pbx/--no-embedded-pbx",
    default=None,
    help="Embed the fake PBX, or never [default: only when no PBX setting is present; "
    "env: IVRHOOKS_EMBEDDED_PBX].",
)
@click.option(
    "--ui-port",
    default=DEFAULT_UI_PORT,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Loopback port of the dev page (with the embedded PBX only; 0: any free port).",
)
@click.option("--ui/--no-ui", default=True, help="Serve the dev page [default: --ui].")
@click.option("--root-path", default="", help="Path prefix when served behind a proxy.")
@click.option(
    "--capture",
    metavar="FILE",
    help="Append every authenticated action-URL request to FILE, one JSON line each, for "
    "`ivrhooks replay` [env: IVRHOOKS_CAPTURE].",
)
@click.option("--log-level", default="info", show_default=True)
# `ivrhooks dev --pbx` runs its child with it: the dev page and the call journal without the
# embedded PBX. Not for people: a plain run against a real PBX keeps no journal.
@click.option("--dev", is_flag=True, hidden=True)
@click.pass_context
def run(
    ctx: click.Context,
    app_spec: str,
    host: str,
    port: int,
    pbx_port: int,
    embedded_pbx: bool | None,
    pbx_password: str | None,
    ui_port: int,
    ui: bool,
    root_path: str,
    capture: str | None,
    log_level: str,
    dev: bool,
) -> None:
    """Serve APP and register its action URLs on the PBX (an embedded fake one by default).

    With the embedded PBX, a dev page on 127.0.0.1:--ui-port shows the app's call-flow map,
    places calls from a dev phone and lists every call live."""
    if root_path and (not root_path.startswith("/") or root_path.endswith("/")):
        raise click.BadParameter(
            "start it with '/' and do not end it with '/'", param_hint="--root-path"
        )
    # Buffered: a writer thread writes stderr, so a slow terminal or log pipe never stalls the
    # event loop; close_logging() writes every line still buffered on the way out.
    configure_logging(log_level.upper(), buffered=True)
    try:
        app = load_app(app_spec)
        config = app.configure(embedded_pbx=embedded_pbx)
        if capture:  # the option wins over IVRHOOKS_CAPTURE, and is checked by the same rule
            config = config.replace(capture=config.capture.replace(file=capture))
        given = _from_environment(ctx)
        host = given["host"][1] if "host" in given else host
        port = given["port"][1] if "port" in given else port
        pbx_password = given["pbx_password"][1] if "pbx_password" in given else pbx_password
        named = "/".join(given[f][0] if f in given else f"--{f}" for f in ("host", "port"))
        # The app and its configuration have loaded and passed their checks: only now load
        # uvicorn, the embedded fake PBX and the dev page (most of the command's start-up), so
        # that a mistake above is reported without them.
        from ivrhooks.cli import serving

        sock = serving.bind("app", named, host, port)
        try:
            with asyncio.Runner(loop_factory=serving.loop_factory()) as runner:
                asked = (
                    ctx.get_parameter_source("ui_port") is not click.core.ParameterSource.DEFAULT
                )
                page = (ui_port, asked) if ui else None
                served = serving.serve(
                    app,
                    config,
                    sock,
                    pbx_port,
                    root_path.rstrip("/"),
                    log_level,
                    page,
                    pbx_password=pbx_password or None,
                    dev=dev,
                )
                runner.run(served)
        finally:
            sock.close()
    finally:
        close_logging()
