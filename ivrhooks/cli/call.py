"""``ivrhooks call``: place a test call through a running fake PBX and show what came back.

``describe`` is shared with ``ivrhooks dev``, whose prompt places the same calls (through
:func:`ivrhooks.fakepbx.remote.place_call`) and prints the same lines.
"""

from __future__ import annotations

import json
from typing import Any

import click

from ivrhooks.cli.group import main
from ivrhooks.fakepbx.remote import DEFAULT_PBX, place_call
from ivrhooks.registration.owner import parse_name

__all__ = ["DEFAULT_PBX", "call_command", "describe", "place_call"]


def describe(result: dict[str, Any], *, to: str, caller: str, digits: str) -> tuple[str, bool]:
    """The line to show for a call's result, and whether the app was asked and answered.

    * ``decision: call 2001  (handler: sales, HTTP 200, 3.1 ms)``: the route's handler decided;
    * ``fallback: call 0  (route: crm; cause: error, ZeroDivisionError: ... at app.py:14; ...)``:
      the app answered with its fallback (or the built-in ``repeat()``), and why;
    * ``no route matches ...``: no action URL fired; that is normal (the receptionist's own menu
      handles the input), so it counts as answered;
    * ``...: no decision (timeout) ...``: the app did not answer properly (False).
    """
    if not result["matched"]:
        what = f"digits {digits!r}" if digits else "the caller's number"
        return (
            f"no route matches caller {caller!r} / {what} on receptionist {to}: no action URL "
            "fires, the receptionist's own menu handles the call (`ivrhooks routes APP "
            "--explain ...` says why)"
        ), True
    name = result["action_url"]["name"]
    latency_ms = result["latency"] * 1000
    if result["error"]:
        return f"{name}: no decision ({result['error']}) after {latency_ms:.1f} ms", False
    decision = result["decision"] or {}
    shown = decision.get("action", "?")
    if decision.get("destination") is not None:
        shown += f" {decision['destination']}"
    parsed = parse_name(name)
    route = parsed.route if parsed is not None else (name or "?")
    tail = f"HTTP {result['status']}, {latency_ms:.1f} ms"
    outcome = result.get("outcome") or {}
    if outcome.get("answered_by") in ("fallback", "default"):
        who = "the fallback" if outcome["answered_by"] == "fallback" else "the built-in default"
        why = f"cause: {outcome.get('cause') or '?'}"
        if outcome.get("error"):
            why += f", {outcome['error']}"
        if outcome.get("where"):
            why += f" at {outcome['where']}"
        return f"fallback: {shown}  (route: {route}, {why}; answered by {who}; {tail})", True
    return f"decision: {shown}  (handler: {route}, {tail})", True


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
