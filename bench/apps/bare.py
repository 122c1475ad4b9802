"""A bare Starlette app: the same JSON decision, no auth, no routing beyond one route.

Written the way a Starlette hello world is written (``JSONResponse`` of a dict), at the same path
the ivrhooks app serves.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


async def decision(request: Request) -> JSONResponse:
    return JSONResponse({"status_code": 200, "action": "call", "destination": "2001"})


app = Starlette(routes=[Route("/hooks/{name}", decision, methods=["GET", "POST"])])
