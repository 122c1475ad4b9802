"""``ivrhooks call``: place a test call through a running fake PBX and show what came back.

``describe`` is shared with ``ivrhooks dev``, whose prompt places the same calls (through
:func:`ivrhooks.fakepbx.remote.place_call`) and prints the same lines.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import click

from ivrhooks.cli.group import main
from ivrhooks.fakepbx.remote import DEFAULT_PBX, place_call

__all__ = ["DEFAULT_PBX", "call_command", "describe", "describe_outcome", "place_call"]


def _outside_the_mask(outcome: dict[str, Any]) -> str:
    if outcome.get("kind") == "CALLER":
        return "the caller's number is outside the route's mask"
    return f"digits {outcome.get('digits') or ''!r} are outside the route's mask"


# A request the PBX sent to a route that does not take it: an action URL on the PBX (made or
# edited by hand, or left from an older version of the app) says more than the route does.
_MISFITS: dict[str, Callable[[dict[str, Any]], str]] = {
    "receptionist": lambda o: (
        f"the route does not serve receptionist {o.get('receptionist') or '?'}"
    ),
    "no_match": _outside_the_mask,
}


def _route_named(name: str | None) -> str:
    """The route an entry's name gives (production's entry, or a dev session's), else the name.

    Only for an answer that does not name the route it ran (an older ivrhooks, another
    framework): imported here, so ``ivrhooks call`` does not load the registration package (its
    service, the PBX client and their models) for the answers that do."""
    from ivrhooks.registration.devnames import parse_dev_name
    from ivrhooks.registration.owner import parse_name

    parsed = parse_name(name) or parse_dev_name(name)
    return parsed.route if parsed is not None else (name or "?")


def describe_hop(hop: dict[str, Any], *, caller: str) -> tuple[str, bool]:
    """The line for one action URL a call fired, and whether the app answered it properly.

    * ``decision: call 2001  (handler: sales, HTTP 200, 3.1 ms)``: the route's handler decided;
    * ``fallback: call 0  (route: crm, cause: error, ZeroDivisionError: ... at app.py:14; ...)``:
      the app answered with its fallback (or the built-in ``repeat()``), and why (``no_match``
      and ``receptionist``: the PBX sent the route input or a receptionist it does not take);
    * ``no route matches ...``: no action URL fired; that is normal (the receptionist's own menu
      handles the input), so it counts as answered;
    * ``...: no decision (timeout) ...``: the app did not answer properly (False).
    """
    to = hop.get("receptionist") or "?"
    digits = hop.get("input") or ""
    if not hop["matched"]:
        what = f"digits {digits!r}" if digits else "the caller's number"
        return (
            f"no route matches caller {caller!r} / {what} on receptionist {to}: no action URL "
            "fires, the receptionist's own menu handles the call (`ivrhooks routes APP "
            "--explain ...` says why)"
        ), True
    name = hop["action_url"]["name"]
    latency_ms = hop["latency"] * 1000
    if hop["error"]:
        return f"{name}: no decision ({hop['error']}) after {latency_ms:.1f} ms", False
    decision = hop["decision"] or {}
    shown = decision.get("action", "?")
    if decision.get("destination") is not None:
        shown += f" {decision['destination']}"
    outcome = hop.get("outcome") or {}
    # The app says which route it ran; an entry made by hand has a name of its own.
    route = outcome.get("route") or _route_named(name)
    tail = f"HTTP {hop['status']}, {latency_ms:.1f} ms"
    if outcome.get("answered_by") in ("fallback", "default"):
        who = "the fallback" if outcome["answered_by"] == "fallback" else "the built-in default"
        cause = outcome.get("cause")
        why = f"cause: {cause or '?'}"
        if outcome.get("error"):
            why += f", {outcome['error']}"
        elif cause in _MISFITS:
            why += f", {_MISFITS[cause](outcome)}"
        if outcome.get("where"):
            why += f" at {outcome['where']}"
        return f"fallback: {shown}  (route: {route}, {why}; answered by {who}; {tail})", True
    return f"decision: {shown}  (handler: {route}, {tail})", True


def describe_outcome(outcome: dict[str, Any]) -> str:
    """How the fake PBX ended the call (``call_outcome``: it has event URLs to tell):

    * ``outcome: answered by 2001 after 0.0 s`` (the seconds it rang);
    * ``outcome: noanswer from 2004 after 30.0 s``;
    * ``outcome: fail at 2002 (busy, SIP 486)``;
    * ``outcome: ended at receptionist 8000 (caller_disconnected)``: nothing was forwarded.
    """
    target, ring = outcome.get("target"), float(outcome.get("ring_duration") or 0)
    if target is None:
        where = outcome.get("receptionist") or "?"
        return f"outcome: ended at receptionist {where} ({outcome.get('ended_reason')})"
    status = outcome.get("status")
    if status == "answered":
        return f"outcome: answered by {target} after {ring:.1f} s"
    if status == "noanswer":
        return f"outcome: noanswer from {target} after {ring:.1f} s"
    why = f"{outcome.get('answering')}, SIP {outcome.get('status_code')}"
    return f"outcome: {status} at {target} ({why})"


def describe(result: dict[str, Any], *, to: str, caller: str, digits: str) -> tuple[str, bool]:
    """The line(s) to show for a call's result, and whether the app answered every hop.

    One prompt: one line, as :func:`describe_hop` says. A call followed across receptionists
    (several groups of digits): one line per hop, each starting with its receptionist and the
    digits keyed there. Then, when the fake PBX sends events for the call, how it ended
    (:func:`describe_outcome`)."""
    line, ok = _describe_hops(result, to=to, caller=caller, digits=digits)
    outcome = result.get("call_outcome")
    if isinstance(outcome, dict):
        line += "\n" + describe_outcome(outcome)
    return line, ok


def _describe_hops(
    result: dict[str, Any], *, to: str, caller: str, digits: str
) -> tuple[str, bool]:
    hops = result.get("hops") or [{**result, "receptionist": to, "input": digits}]
    if len(hops) == 1:
        return describe_hop(hops[0], caller=caller)
    lines, ok = [], True
    for number, hop in enumerate(hops, start=1):
        line, answered = describe_hop(hop, caller=caller)
        keyed = f" keys {hop['input']!r}" if hop.get("input") else ""
        lines.append(f"{number}. receptionist {hop.get('receptionist')}{keyed}: {line}")
        ok = ok and answered
    lines.append(f"session {result.get('session_id')}: {len(hops)} hops")
    return "\n".join(lines), ok


@main.command("call")
@click.option("--to", required=True, metavar="EXT", help="The receptionist's extension number.")
@click.option("--caller", default="101", show_default=True, help="The caller's number.")
@click.option(
    "--digits",
    multiple=True,
    help="The DTMF digits the caller keys; repeat it for the next prompt (the call follows "
    "forwards to other receptionists under one session id).",
)
@click.option("--caller-name", default="", help="The caller's display name.")
@click.option(
    "--pbx",
    default=DEFAULT_PBX,
    show_default=True,
    help="The fake PBX (of `ivrhooks run` or `ivrhooks fake-pbx`); with or without /api.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def call_command(
    to: str, caller: str, digits: tuple[str, ...], caller_name: str, pbx: str, as_json: bool
) -> None:
    """Place a call into a fake PBX: it fires the matching action URLs like PortSIP would."""
    keys: str | list[str] = list(digits) if len(digits) > 1 else (digits[0] if digits else "")
    result = place_call(pbx, to=to, caller=caller, digits=keys, caller_name=caller_name)
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    line, decided = describe(result, to=to, caller=caller, digits=digits[0] if digits else "")
    click.echo(line)
    if not decided:
        raise SystemExit(1)
