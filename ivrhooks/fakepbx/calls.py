"""``POST /_fake/dial``: place a test call over HTTP (what ``ivrhooks call`` uses).

Not a PortSIP endpoint: the fake PBX's own development door, so a person or a script can place a
call into a running fake PBX (the embedded one of ``ivrhooks run``, or ``ivrhooks fake-pbx``).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from ivrhooks.fakepbx.dial import DialResult
from ivrhooks.fakepbx.remote import DIAL_PATH

if TYPE_CHECKING:
    from ivrhooks.fakepbx.state import PBXState

__all__ = ["DIAL_PATH", "call_routes", "dial_endpoint", "hop_json"]


def hop_json(result: DialResult) -> dict[str, Any]:
    """One hop as the dial endpoint answers it (and the dev page's live list shows it)."""
    url = result.action_url
    return {
        "receptionist": result.fields.get("to"),
        "input": result.fields.get("input", ""),
        "matched": url is not None,
        "action_url": None if url is None else {"name": url.name, "type": url.type},
        "status": result.status,
        "decision": result.decision,
        "latency": result.latency,
        "error": result.error,
        "outcome": result.outcome,
    }


def dial_endpoint(pbx: PBXState) -> Callable[[Request], Awaitable[JSONResponse]]:
    """The endpoint placing a call on ``pbx``: the fake PBX's ``/_fake/dial``, and the dev
    page's dev phone, which places calls exactly as ``ivrhooks call`` does."""

    async def dial(request: Request) -> JSONResponse:
        """``{"to", "caller", "digits", "caller_name"?, "session_id"?}``; ``digits`` a string
        (one prompt) or a list (one group per prompt, followed across receptionists). With an
        event URL set, the answer's ``call_outcome`` says how the fake ended the call (its
        events are still being sent)."""
        try:
            body: Any = json.loads(await request.body())
        except ValueError:
            return JSONResponse({"error": "send a JSON object"}, status_code=400)
        if not isinstance(body, dict):
            return JSONResponse({"error": "send a JSON object"}, status_code=400)
        fields: dict[str, str] = {}
        for name in ("to", "caller", "caller_name"):
            value = body.get(name, "")
            if not isinstance(value, str):
                return JSONResponse({"error": f"{name} must be a string"}, status_code=400)
            fields[name] = value
        digits = body.get("digits", "")
        keys = [digits] if isinstance(digits, str) else digits
        if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
            return JSONResponse(
                {"error": "digits must be a string or a list of strings"}, status_code=400
            )
        session_id = body.get("session_id")
        if session_id is not None and not isinstance(session_id, str):
            return JSONResponse({"error": "session_id must be a string"}, status_code=400)
        if not fields["to"] or not fields["caller"]:
            return JSONResponse({"error": "to and caller are required"}, status_code=400)
        try:
            if len(keys) <= 1:
                # One prompt: the call as a PBX places it at one receptionist (CALLER, then DTMF).
                one = await pbx.dial(
                    fields["to"],
                    fields["caller"],
                    keys[0] if keys else "",
                    fields["caller_name"],
                    session_id=session_id,
                )
                hops = [one]
                session = one.fields["session_id"]
            else:
                flow = await pbx.call(
                    fields["to"],
                    fields["caller"],
                    keys,
                    fields["caller_name"],
                    session_id=session_id,
                )
                hops, session = flow.hops, flow.session_id
        except LookupError:
            return JSONResponse(
                {"error": f"no receptionist with extension {fields['to']}"}, status_code=404
            )
        shown = [hop_json(h) for h in hops]
        # The first hop's fields at the top too: what a one-prompt call has always answered.
        first = shown[0] if shown else {"matched": False, "action_url": None}
        answer = {**first, "session_id": session, "hops": shown}
        outcome = pbx.call_outcome(session)
        if outcome is not None:  # the fake sends events for it: how it decided the call ended
            answer["call_outcome"] = outcome.to_json()
        return JSONResponse(answer)

    return dial


def call_routes(pbx: PBXState) -> list[Route]:
    return [Route(DIAL_PATH, dial_endpoint(pbx), methods=["POST"])]
