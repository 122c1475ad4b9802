"""``ivrhooks call``: place a test call through a running fake PBX and show what came back."""

from __future__ import annotations

import json

import click
import httpx

from ivrhooks.cli import main
from ivrhooks.testing.fake_pbx.calls import DIAL_PATH

DEFAULT_PBX = "http://127.0.0.1:8887"


@main.command("call")
@click.option("--to", required=True, metavar="EXT", help="The receptionist's extension number.")
@click.option("--caller", default="101", show_default=True, help="The caller's number.")
@click.option("--digits", default="", help="The DTMF digits the caller keys.")
@click.option("--caller-name", default="", help="The caller's display name.")
@click.option(
    "--pbx",
    default=DEFAULT_PBX,
    show_default=True,
    help="The fake PBX (of `ivrhooks run` or `ivrhooks fake-pbx`); with or without /api.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def call_command(
    to: str, caller: str, digits: str, caller_name: str, pbx: str, as_json: bool
) -> None:
    """Place a call into a fake PBX: it fires the matching action URL like PortSIP would."""
    base = pbx.rstrip("/").removesuffix("/api")
    try:
        response = httpx.post(
            base + DIAL_PATH,
            json={"to": to, "caller": caller, "digits": digits, "caller_name": caller_name},
            timeout=10.0,
        )
    except httpx.HTTPError as exc:
        raise click.ClickException(
            f"no fake PBX answers at {base} ({type(exc).__name__}); start one with "
            "`ivrhooks run APP` or `ivrhooks fake-pbx`, or pass --pbx URL"
        ) from None
    if response.status_code == 404 and "error" not in response.text:
        raise click.ClickException(f"{base} is not a fake PBX (no {DIAL_PATH})")
    result = response.json()
    if response.status_code != 200:
        raise click.ClickException(str(result.get("error", result)))
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    if not result["matched"]:
        what = f"digits {digits!r}" if digits else "this caller"
        raise click.ClickException(
            f"no enabled action URL of receptionist {to} matches caller {caller!r} or {what}; "
            "is the app running and registered? (`ivrhooks routes APP --explain ...`)"
        )
    name = result["action_url"]["name"]
    latency_ms = result["latency"] * 1000
    if result["error"]:
        click.echo(f"{name}: no decision ({result['error']}) after {latency_ms:.1f} ms")
        raise SystemExit(1)
    decision = result["decision"] or {}
    shown = decision.get("action", "?")
    if decision.get("destination") is not None:
        shown += f" {decision['destination']}"
    handler = name.removeprefix("ivrhooks:") if name else "?"
    click.echo(
        f"decision: {shown}  (handler: {handler}, HTTP {result['status']}, {latency_ms:.1f} ms)"
    )
