"""The dev page's HTTP side: the page, its map, its live feed and its phone, on loopback.

- ``GET /``, ``/static/*``: the page (plain HTML, CSS, JavaScript and SVG, shipped in the
  package: no CDN, no build step);
- ``GET /api/map``: the call-flow map (:mod:`.flowmap`) of the app as it runs now;
- ``GET /api/events``: server-sent events, one per hop the embedded PBX places (:mod:`.feed`);
- ``POST /api/call``: place a call, the fake PBX's own ``/_fake/dial`` (what ``ivrhooks call``
  uses), so the dev phone and the command line answer the same way.

Loopback is not enough on its own: any web page the developer has open can make their browser
send requests to ``127.0.0.1``. So a request must name a loopback host (a DNS-rebinding page
names its own), a call must be posted as JSON (which a cross-site form or ``no-cors`` fetch
cannot send without a CORS preflight, which this server never grants), and the page may not be
framed by another site.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ivrhooks.fakepbx.calls import dial_endpoint, hop_json
from ivrhooks.fakepbx.devui.feed import Feed
from ivrhooks.fakepbx.devui.flowmap import FlowMaps
from ivrhooks.fakepbx.dial import DialResult
from ivrhooks.fakepbx.pbx import FakePBX
from ivrhooks.runtime import Runtime

__all__ = ["STATIC", "dev_page_app", "hop_event"]

STATIC = Path(__file__).resolve().parent / "static"

_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "[::1]"})
_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; "
        b"form-action 'self'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
]


def hop_event(result: DialResult) -> dict[str, Any]:
    """A hop for the live list: what the dial endpoint answers for it, and whose call it is."""
    return {
        **hop_json(result),
        "session_id": result.fields.get("session_id"),
        "caller": result.fields.get("from"),
        "at": time.time(),
    }


class _LoopbackOnly:
    """Refuses requests that do not name a loopback host, and calls not posted as JSON; adds
    the page's security headers to every answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        host = headers.get(b"host", b"").decode("latin-1").lower()
        name = host.rpartition(":")[0] if host.rpartition(":")[2].isdigit() else host
        refusal = None
        if name not in _LOOPBACK_HOSTS:
            refusal = Response("the dev page answers at 127.0.0.1 only\n", 403)
        elif scope["method"] == "POST" and not headers.get(b"content-type", b"").startswith(
            b"application/json"
        ):
            refusal = Response("send the call as application/json\n", 415)

        async def secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *_HEADERS]
            await send(message)

        await (refusal or self.app)(scope, receive, secured)


def dev_page_app(pbx: FakePBX, runtime: Runtime, feed: Feed) -> ASGIApp:
    """The dev page of the app that ``runtime`` serves, placing calls on ``pbx``."""
    maps = FlowMaps()

    async def page(request: Request) -> Response:
        return FileResponse(STATIC / "index.html", headers={"cache-control": "no-cache"})

    async def flow_map(request: Request) -> JSONResponse:
        journal = runtime.journal
        records = journal.recent() if journal is not None else []
        body = maps.build(runtime.manifest, records)
        return JSONResponse({**body, "start": feed.start}, headers={"cache-control": "no-store"})

    async def events(request: Request) -> StreamingResponse:
        return StreamingResponse(
            feed.stream(request.headers.get("last-event-id")),
            media_type="text/event-stream",
            headers={"cache-control": "no-store"},
        )

    routes = [
        Route("/", page),
        Route("/api/map", flow_map),
        Route("/api/events", events),
        Route("/api/call", dial_endpoint(pbx), methods=["POST"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    return _LoopbackOnly(Starlette(routes=routes))
