"""``ivrhooks call``: place a test call through a running fake PBX and show what came back.

``place_call`` and ``describe`` are shared with ``ivrhooks dev``, whose prompt places the same
calls and prints the same lines.
"""

from __future__ import annotations

import json
from typing import Any

import click
import httpx

from ivrhooks.cli import main
from ivrhooks.testing.fake_pbx.calls import DIAL_PATH

__all__ = ["DEFAULT_PBX", "call_command", "describe", "place_call"]

DEFAULT_PBX = "http://127.0.0.1:8887"


def place_call(
    pbx: str, *, to: str, caller: str, digits: str = "", caller_name: str = ""
) -> dict[str, Any]:
    """POST the call to the fake PBX's ``/_fake/dial``; returns its JSON result.

    A PBX that does not answer, is not a fake PBX, or refuses the call raises
    ``click.ClickException`` with a message that says what to do.
    """
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
    result: dict[str, Any] = response.json()
    if response.status_code != 200:
        raise click.ClickException(str(result.get("error", result)))
    return result


def describe(result: dict[str, Any], *, to: str, caller: str, digits: str) -> tuple[str, bool]:
    """The line to show for a call's result, and whether the app made a decision.

    No matching action URL raises ``click.ClickException`` (nothing was asked of the app).
    """
    if not result["matched"]:
        what = f"digits {digits!r}" if digits else "this caller"
        raise click.ClickException(
            f"no enabled action URL of receptionist {to} matches caller {caller!r} or {what}; "
            "is the app running and registered? (`ivrhooks routes APP --explain ...`)"
        )
    name = result["action_url"]["name"]
    latency_ms = result["latency"] * 1000
    if result["error"]:
        return f"{name}: no decision ({result['error']}) after {latency_ms:.1f} ms", False
    decision = result["decision"] or {}
    shown = decision.get("action", "?")
    if decision.get("destination") is not None:
        shown += f" {decision['destination']}"
    handler = name.removeprefix("ivrhooks:") if name else "?"
    line = f"decision: {shown}  (handler: {handler}, HTTP {result['status']}, {latency_ms:.1f} ms)"
    return line, True


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
    result = place_call(pbx, to=to, caller=caller, digits=digits, caller_name=caller_name)
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    line, decided = describe(result, to=to, caller=caller, digits=digits)
    click.echo(line)
    if not decided:
        raise SystemExit(1)
