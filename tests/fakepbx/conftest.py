"""A small action-URL receiver that records what the fake PBX sends and checks credentials."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from ivrhooks.testing import serve

USER, PASSWORD, TOKEN = "pbxhook1", "s3cretpass", "tok-123"
REALM, NONCE = "ivrhooks-test", "5f1c0a9e"
DECISION = {"status_code": 200, "action": "call", "destination": "222"}


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()  # noqa: S324 - RFC 7616 MD5, test only


def _digest_ok(request: Request) -> bool:
    # Just enough of RFC 7616 (MD5, qop=auth) to prove httpx.DigestAuth's answer is right.
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
    return params.get("username") == USER and hmac.compare_digest(
        expected, params.get("response", "")
    )


@dataclass
class Receiver:
    hits: list[dict[str, Any]] = field(default_factory=list)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    url: str = ""

    async def endpoint(self, request: Request) -> Response:
        body = await request.body()
        self.hits.append(
            {
                "path": request.url.path,
                "method": request.method,
                "query": dict(request.query_params),
                "json": json.loads(body) if body else None,
                "headers": dict(request.headers),
            }
        )
        kind = request.path_params["kind"]
        auth = request.headers.get("authorization", "")
        if kind == "basic":
            good = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
            if not hmac.compare_digest(auth.encode(), good.encode()):
                return Response(status_code=401, headers={"WWW-Authenticate": "Basic"})
        elif kind == "digest" and not _digest_ok(request):
            challenge = f'Digest realm="{REALM}", nonce="{NONCE}", qop="auth", algorithm=MD5'
            return Response(status_code=401, headers={"WWW-Authenticate": challenge})
        elif kind == "bearer" and auth != f"Bearer {TOKEN}":
            return Response(status_code=401)
        elif kind == "slow":
            await self.release.wait()
        elif kind == "badjson":
            return PlainTextResponse("not json")
        return JSONResponse(DECISION)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    rec = Receiver()
    app = Starlette(routes=[Route("/hook/{kind}", rec.endpoint, methods=["GET", "POST"])])
    async with serve(app) as url:
        rec.url = url
        try:
            yield rec
        finally:
            rec.release.set()  # let a held request finish so the server can stop
