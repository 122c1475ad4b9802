"""``ivrhooks probe --receptionist EXT``: learn what this PBX build does where PortSIP's
documents are silent, on a receptionist kept for it (see :mod:`ivrhooks.probe`).

The PBX and its login come from the variables an app uses (``IVRHOOKS_PBX_URL``,
``IVRHOOKS_PBX_USERNAME``/``IVRHOOKS_PBX_PASSWORD`` or ``IVRHOOKS_PBX_TOKEN``), the public URL
from ``--public-url`` or ``IVRHOOKS_PUBLIC_URL``. SIGINT and SIGTERM end the run early: the
probe's entries are removed and the report of what was seen so far is written.
"""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import click

from ivrhooks.cli.group import main
from ivrhooks.core.masks import parse_mask
from ivrhooks.core.types import EXTENSION_RULE, METHODS, SCHEMES, Method, Scheme, is_extension
from ivrhooks.errors import MaskError, PBXConnectionError, PBXLoginError
from ivrhooks.probe import Console, Probe, ProbeOptions, pick_steps, read_environment
from ivrhooks.probe.settings import public_url_problem

__all__ = ["probe_command"]


def _mask(kind: str, option: str, value: str | None) -> None:
    if value is None or (value == "ALL" and kind == "DTMF"):
        return
    try:
        parse_mask(value, "DTMF" if kind == "DTMF" else "CALLER")
    except MaskError as exc:
        raise click.BadParameter(str(exc), param_hint=option) from None


async def _run(probe: Probe) -> bool:
    """Run ``probe`` with SIGINT/SIGTERM ending it cleanly; False when a signal ended it."""
    loop = asyncio.get_running_loop()

    def stop(sig: signal.Signals) -> None:
        if probe.interrupt(sig.name):
            probe.console.say(f"{sig.name}: stopping; removing the probe's entries")

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop, sig)
    try:
        await probe.run()
    except asyncio.CancelledError:
        if probe.interrupted is None:
            raise
        return False
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    return True


@main.command("probe")
@click.option(
    "--receptionist",
    required=True,
    metavar="EXT",
    help="A receptionist kept for the probe: its extension number.",
)
@click.option(
    "--public-url",
    default=None,
    help="The base URL at which the PBX reaches --host/--port [default: IVRHOOKS_PUBLIC_URL; "
    "the local URL when the PBX is on loopback].",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    default=8080,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port to listen on (0: any free port).",
)
@click.option(
    "--method",
    type=click.Choice(METHODS),
    default=None,
    help="The action URL's method [default: IVRHOOKS_METHOD, else POST].",
)
@click.option(
    "--auth",
    "scheme",
    type=click.Choice(SCHEMES),
    default="digest",
    show_default=True,
    help="The action URL's auth (digest shows its parameters).",
)
@click.option(
    "--request-timeout",
    type=click.IntRange(1, 60),
    default=None,
    help="Seconds registered as request/connection timeout [default: "
    "IVRHOOKS_REQUEST_TIMEOUT, else 2].",
)
@click.option(
    "--dtmf-mask",
    default="ALL",
    show_default=True,
    help="The DTMF mask (ALL needs PBX v22.6.0+; e.g. 0-99999 before).",
)
@click.option(
    "--caller-mask",
    default=None,
    help="Also register a CALLER action URL with this mask (e.g. the test phone's "
    "number): shows what a CALLER request carries.",
)
@click.option(
    "--steps",
    "step_names",
    default="",
    metavar="LIST",
    help="Comma-separated steps to run [default: all: repeat, call, hangup, "
    "status-500, invalid-json, late].",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    default="ivrhooks-probe",
    show_default=True,
    help="Directory for report.md, report.json, behaviour.json.",
)
@click.option(
    "--force", is_flag=True, help="Probe even when the receptionist holds other action URLs."
)
@click.option(
    "--self-dial",
    is_flag=True,
    help="Place each step's call itself (the fake PBX only: its /_fake/dial).",
)
@click.option("--caller", default="101", show_default=True, help="--self-dial's caller number.")
@click.option(
    "--settle",
    type=click.FloatRange(1, 3600),
    default=60.0,
    show_default=True,
    help="With no input to read (stdin closed): a step ends after this many quiet seconds.",
)
@click.option(
    "--ask/--no-ask",
    default=None,
    help="After each step, ask what the caller heard [default: on a terminal].",
)
def probe_command(
    receptionist: str,
    public_url: str | None,
    host: str,
    port: int,
    method: Method | None,
    scheme: Scheme,
    request_timeout: int | None,
    dtmf_mask: str,
    caller_mask: str | None,
    step_names: str,
    out: str,
    force: bool,
    self_dial: bool,
    caller: str,
    settle: float,
    ask: bool | None,
) -> None:
    """Learn what this PBX does where PortSIP's documents are silent (a dedicated receptionist)."""
    if not is_extension(receptionist):
        raise click.BadParameter(
            f"an extension number, {EXTENSION_RULE}", param_hint="--receptionist"
        )
    if public_url is not None and (problem := public_url_problem(public_url)) is not None:
        raise click.BadParameter(problem, param_hint="--public-url")
    _mask("DTMF", "--dtmf-mask", dtmf_mask)
    _mask("CALLER", "--caller-mask", caller_mask)
    steps = pick_steps([s.strip() for s in step_names.split(",") if s.strip()])
    # ivrhooks' own errors (a bad variable, a refused receptionist) are one line via the group.
    env = read_environment(os.environ)
    console = Console(click.echo)
    options = ProbeOptions(
        receptionist=receptionist,
        public_url=(public_url or env.public_url or "").rstrip("/") or None,
        host=host,
        port=port,
        method=method or env.method or "POST",
        scheme=scheme,
        request_timeout=request_timeout or env.request_timeout or 2,
        dtmf_mask=dtmf_mask,
        caller_mask=caller_mask,
        steps=steps,
        out=Path(out),
        force=force,
        self_dial=self_dial,
        caller=caller,
        settle=settle,
        ask=console.interactive if ask is None else ask,
    )
    probe = Probe(options, env.pbx, console)
    try:
        finished = asyncio.run(_run(probe))
    except (PBXConnectionError, PBXLoginError) as exc:
        raise click.ClickException(
            f"the PBX at {env.pbx.url} (IVRHOOKS_PBX_URL) did not let the probe in: {exc}"
        ) from None
    if not finished:
        signum = signal.Signals[probe.interrupted or "SIGTERM"]
        raise SystemExit(128 + signum.value)
