"""A loopback receiver for the fake PBX's tests: it answers action URLs (``/decide``) and records
the events posted to it (``/events/...``), checking Basic, Digest and Bearer credentials."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ivrhooks.testing import FakePBX, serve

# Event URL credentials follow PortSIP's rule for them (a-z0-9, 6-64).
USER, PASSWORD, TOKEN = "events1", "s3cretpass", "tok-123"
REALM, NONCE = "ivrhooks-events", "7c1d2e9a"

#: What the receptionist's action URL decides, by the digit keyed.
DECISIONS: dict[str, dict[str, Any]] = {
    "1": {"action": "call", "destination": "2001"},
    "2": {"action": "call", "destination": "2002"},
    "3": {"action": "call", "destination": "2003"},
    "4": {"action": "call", "destination": "2004"},
    "5": {"action": "hangup"},
    "6": {"action": "call", "destination": "8001"},
}
#: What the forward targets do with a call (2001 and any other: answer).
EXTENSIONS = {"2002": "busy", "2003": "offline", "2004": "noanswer"}


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()  # noqa: S324 - RFC 7616 MD5, test only


def _digest_ok(request: Request) -> bool:
    header = request.headers.get("authorization", "")
    if not header.startswith("Digest "):
        return False
    params = dict(
        (k.strip(), v.strip().strip('"'))
        for k, _, v in (p.partition("=") for p in header[7:].split(","))
    )
    ha1 = _md5(f"{params.get('username')}:{REALM}:{PASSWORD}")
    ha2 = _md5(f"{request.method}:{params.get('uri')}")
    expected = _md5(f"{ha1}:{NONCE}:{params.get('nc')}:{params.get('cnonce')}:auth:{ha2}")
    return (
        params.get("username") == USER
        and params.get("uri") == request.url.path
        and hmac.compare_digest(expected, params.get("response", ""))
    )


@dataclass
class Hit:
    path: str
    headers: dict[str, str]
    body: Any
    status: int
    peer: tuple[str, int] | None = None

    @property
    def kind(self) -> str:
        return "extension" if "extension" in self.path else "cdr"


@dataclass
class Receiver:
    url: str = ""
    hits: list[Hit] = field(default_factory=list)
    """Every event request, in the order it arrived, with the status it was answered."""
    decided: list[dict[str, str]] = field(default_factory=list)
    """Every action-URL request's fields."""
    answers: dict[str, list[int]] = field(default_factory=dict)
    """Statuses to answer an event type with, in turn, before answering 200."""
    hold: asyncio.Event | None = None
    """When set to an unset event, event requests wait for it."""

    def bodies(self, kind: str | None = None) -> list[dict[str, Any]]:
        return [h.body for h in self.hits if h.status == 200 and kind in (None, h.kind)]

    async def event(self, request: Request) -> Response:
        path = request.url.path
        auth = request.headers.get("authorization", "")
        if "/basic/" in path:
            good = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
            if not hmac.compare_digest(auth.encode(), good.encode()):
                return Response(status_code=401, headers={"WWW-Authenticate": "Basic"})
        elif "/digest/" in path and not _digest_ok(request):
            challenge = f'Digest realm="{REALM}", nonce="{NONCE}", qop="auth", algorithm=MD5'
            return Response(status_code=401, headers={"WWW-Authenticate": challenge})
        elif "/bearer/" in path and auth != f"Bearer {TOKEN}":
            return Response(status_code=401)
        if self.hold is not None:
            await self.hold.wait()
        body = json.loads(await request.body())
        queued = self.answers.get(body.get("event_type")) or []
        status = queued.pop(0) if queued else 200
        peer = (request.client.host, request.client.port) if request.client else None
        self.hits.append(Hit(path, dict(request.headers), body, status, peer))
        return Response(status_code=status)

    async def decide(self, request: Request) -> JSONResponse:
        self.decided.append(dict(request.query_params))
        decision = DECISIONS.get(request.query_params.get("input", ""), {"action": "repeat"})
        return JSONResponse({"status_code": 200, **decision})


@contextlib.asynccontextmanager
async def receiving() -> AsyncIterator[Receiver]:
    receiver = Receiver()
    app = Starlette(
        routes=[
            Route("/decide", receiver.decide, methods=["GET"]),
            Route("/events/{path:path}", receiver.event, methods=["POST"]),
        ]
    )
    async with serve(app) as url:
        receiver.url = url
        try:
            yield receiver
        finally:
            if receiver.hold is not None:
                receiver.hold.set()  # let held requests finish so the server can stop


def fake_pbx(receiver: Receiver, **options: Any) -> FakePBX:
    """Receptionists 8000 and 8001, each deciding by :data:`DECISIONS`; targets as
    :data:`EXTENSIONS` say."""
    options.setdefault("extensions", EXTENSIONS)
    pbx = FakePBX(**options)
    for number in ("8000", "8001"):
        ivr_id = pbx.add_ivr(number, f"Receptionist {number}")
        pbx.resources.create_action_url(
            ivr_id,
            {
                "name": "decide",
                "enabled": True,
                "type": "DTMF",
                "dtmf_mask": "1-7",
                "url": receiver.url + "/decide",
            },
        )
    return pbx
