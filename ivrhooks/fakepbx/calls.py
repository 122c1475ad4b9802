"""``POST /_fake/dial``: place a test call over HTTP (what ``ivrhooks call`` uses).

Not a PortSIP endpoint: the fake PBX's own development door, so a person or a script can place a
call into a running fake PBX (the embedded one of ``ivrhooks run``, or ``ivrhooks fake-pbx``).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

if TYPE_CHECKING:
    from ivrhooks.fakepbx.state import PBXState

__all__ = ["DIAL_PATH", "call_routes"]

DIAL_PATH = "/_fake/dial"


def call_routes(pbx: PBXState) -> list[Route]:
    async def dial(request: Request) -> JSONResponse:
        try:
            body: Any = json.loads(await request.body())
        except ValueError:
            return JSONResponse({"error": "send a JSON object"}, status_code=400)
        if not isinstance(body, dict):
            return JSONResponse({"error": "send a JSON object"}, status_code=400)
        fields = {}
        for name in ("to", "caller", "digits", "caller_name"):
            value = body.get(name, "")
            if not isinstance(value, str):
                return JSONResponse({"error": f"{name} must be a string"}, status_code=400)
            fields[name] = value
        if not fields["to"] or not fields["caller"]:
            return JSONResponse({"error": "to and caller are required"}, status_code=400)
        try:
            result = await pbx.dial(**fields)
        except LookupError:
            return JSONResponse(
                {"error": f"no receptionist with extension {fields['to']}"}, status_code=404
            )
        url = result.action_url
        return JSONResponse(
            {
                "matched": url is not None,
                "action_url": None if url is None else {"name": url.name, "type": url.type},
                "status": result.status,
                "decision": result.decision,
                "latency": result.latency,
                "error": result.error,
                "outcome": result.outcome,
            }
        )

    return [Route(DIAL_PATH, dial, methods=["POST"])]
