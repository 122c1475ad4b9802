"""The dev page's HTTP side: the page, its map, its live feed and its phone, on loopback.

- ``GET /``, ``/static/*``: the page (plain HTML, CSS, JavaScript and SVG, shipped in the
  package: no CDN, no build step);
- ``GET /api/map``: the call-flow map (:mod:`.flowmap`) of the app as it runs now;
- ``GET /api/events``: server-sent events, one per hop the embedded PBX places, and one per
  attempt at posting a CDR or extension event to the tenant's event URLs (:mod:`.feed`);
- ``POST /api/call``: place a call, the fake PBX's own ``/_fake/dial`` (what ``ivrhooks call``
  uses), so the dev phone and the command line answer the same way.

Without a fake PBX (``ivrhooks dev --pbx``: a real PBX places the calls) there is no phone: the
page is served marked ``data-phone="off"``, ``/api/call`` does not exist, and the live list is
fed from the app's call journal (:func:`record_event`), one event per request it answered.

Loopback is not enough on its own: the page answers under the rules of every listener of the
fake PBX (:mod:`ivrhooks.fakepbx.guard`: a loopback ``Host``, bodies as JSON, no CORS), and may
not be framed by another site.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp

from ivrhooks.fakepbx.calls import dial_endpoint, hop_json
from ivrhooks.fakepbx.devui.feed import Feed
from ivrhooks.fakepbx.devui.flowmap import FlowMaps
from ivrhooks.fakepbx.dial import DialResult
from ivrhooks.fakepbx.guard import LoopbackOnly
from ivrhooks.fakepbx.pbx import FakePBX
from ivrhooks.fakepbx.webhooks import SentEvent
from ivrhooks.observe.journal import CallRecord
from ivrhooks.observe.logs import mask_number
from ivrhooks.runtime import Runtime

__all__ = ["STATIC", "dev_page_app", "hop_event", "record_event", "sent_event"]

STATIC = Path(__file__).resolve().parent / "static"

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


def sent_event(sent: SentEvent) -> dict[str, Any]:
    """An event the PBX posted, for the live list: under its call, its type, the number it is
    about, and how the event URL answered."""
    return {
        "session_id": sent.call,
        "kind": sent.kind,
        "type": sent.event_type,
        "target": sent.target,
        "status": sent.status,
        "error": sent.error,
        "attempt": sent.attempt,
        "copy": sent.copy,
        "at": sent.at,
    }


def record_event(record: CallRecord) -> dict[str, Any]:
    """A request the app answered, from its journal, for the live list when a real PBX placed
    the call: what the PBX saw (the HTTP status, its latency) is not known here, and the
    caller's number is masked as in the logs, since it is a real caller's."""
    return {
        "receptionist": record.receptionist,
        "input": record.digits,
        "matched": True,
        "action_url": {"name": None, "type": record.kind},
        "status": None,
        "decision": {"action": record.action, "destination": record.destination},
        "latency": None,
        "error": None,
        "outcome": {**record.as_json(), "caller": None},
        "session_id": record.session_id,
        "caller": mask_number(record.caller),
        "at": record.at,
    }


def dev_page_app(pbx: FakePBX | None, runtime: Runtime, feed: Feed) -> ASGIApp:
    """The dev page of the app that ``runtime`` serves, placing calls on ``pbx``; without one,
    the page has no phone (a real PBX places the calls)."""
    maps = FlowMaps()
    html = (STATIC / "index.html").read_text()
    if pbx is None:
        html = html.replace("<body>", '<body data-phone="off">', 1)

    async def page(request: Request) -> Response:
        return HTMLResponse(html, headers={"cache-control": "no-cache"})

    async def flow_map(request: Request) -> JSONResponse:
        journal = runtime.journal
        records = journal.recent() if journal is not None else []
        body = maps.build(runtime.manifest, records)
        shown = {**body, "start": feed.start, "phone": pbx is not None}
        return JSONResponse(shown, headers={"cache-control": "no-store"})

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
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    if pbx is not None:
        routes.insert(3, Route("/api/call", dial_endpoint(pbx), methods=["POST"]))
    return LoopbackOnly(Starlette(routes=routes), name="the dev page", headers=_HEADERS)
