"""A hostile PBX for tests: a small Starlette app that answers like PortSIP until a test tells one
endpoint to misbehave (a huge body, a drip, an endless list, an error echoing the token, a role
named with terminal escapes). Served on loopback with ``ivrhooks.testing.serve``.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

Handler = Callable[[Request], Awaitable[Response]]

USERNAME = "apiuser"
PASSWORD = "hostile-tests-password-0123"
FULL = "Phone System: Full Access"
MiB = 1024 * 1024


class HostilePBX:
    """Logs anyone in with ``USERNAME``/``PASSWORD``, issuing :attr:`token`; serves receptionist
    8000 with no action URLs. ``on(method, path, handler)`` replaces one endpoint."""

    def __init__(self) -> None:
        self.token = "tok-" + secrets.token_hex(20)
        self.refresh = "ref-" + secrets.token_hex(20)
        self.username = USERNAME
        self.password = PASSWORD
        #: Every request, as ``"GET ivrs"`` (the path under /api).
        self.requests: list[str] = []
        #: Bytes the streaming answers handed to the server (not necessarily received).
        self.streamed = 0
        self._handlers: dict[tuple[str, str], Handler] = {
            ("POST", "auth/sign_in"): self._sign_in,
            ("GET", "auth/user"): self._user,
            ("GET", "ivrs"): self._ivrs,
            ("GET", "ivrs/ivr-8000/action_urls"): self._no_urls,
        }
        self.app = Starlette(
            routes=[Route("/api/{path:path}", self._route, methods=["GET", "POST"])]
        )

    def on(self, method: str, path: str, handler: Handler) -> None:
        self._handlers[(method, path)] = handler

    def count(self, what: str) -> int:
        return self.requests.count(what)

    async def _route(self, request: Request) -> Response:
        path = request.path_params["path"]
        self.requests.append(f"{request.method} {path}")
        handler = self._handlers.get((request.method, path))
        if handler is None:
            return error(404, "not found")
        return await handler(request)

    async def _sign_in(self, request: Request) -> Response:
        body = await request.json()
        if (body.get("username"), body.get("password")) != (self.username, self.password):
            return error(401, "username or password is incorrect")
        return JSONResponse(
            {
                "access_token": self.token,
                "refresh_token": self.refresh,
                "expires_in": 3600,
                "token_type": "Bearer",
            }
        )

    async def _user(self, request: Request) -> Response:
        return JSONResponse({"username": self.username, "role": "Admin", "capabilities": [FULL]})

    async def _ivrs(self, request: Request) -> Response:
        item = {"id": "ivr-8000", "name": "Main", "extension_number": "8000"}
        return JSONResponse({"count": 1, "items": [item]})

    async def _no_urls(self, request: Request) -> Response:
        return JSONResponse({"items": []})

    # -- misbehaviours ------------------------------------------------------------------

    def huge(self, size: int, *, chunk: int = 64 * 1024) -> Handler:
        """An answer of ``size`` bytes of JSON-looking text, streamed without a length, for as
        long as the client stays connected (:attr:`streamed` counts what it was handed)."""

        async def handler(request: Request) -> Response:
            async def body() -> AsyncIterator[bytes]:
                yield b'{"access_token": "'
                sent = 0
                while sent < size and not await request.is_disconnected():
                    piece = b"A" * min(chunk, size - sent)
                    sent += len(piece)
                    self.streamed += len(piece)
                    yield piece
                yield b'"}'

            return StreamingResponse(body(), media_type="application/json")

        return handler

    def drip(self, every: float = 0.1) -> Handler:
        """An answer that sends one byte every ``every`` seconds, for ever."""

        async def handler(request: Request) -> Response:
            async def body() -> AsyncIterator[bytes]:
                yield b'{"items": ['
                while True:
                    await asyncio.sleep(every)
                    self.streamed += 1
                    yield b" "

            return StreamingResponse(body(), media_type="application/json")

        return handler


def error(status: int, message: str, detail: Any = None) -> JSONResponse:
    """PortSIP's error body (REST "About")."""
    body = {"errors": [{"code": "UNKNOWN", "message": message, "detail": detail}]}
    return JSONResponse(body, status_code=status)


def answer(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Handler:
    async def handler(request: Request) -> Response:
        return JSONResponse(body, status_code=status, headers=headers)

    return handler
