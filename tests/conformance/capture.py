"""Record HTTP exchanges on both sides of a real loopback connection.

- :class:`RecordingTransport` wraps httpx's real transport on the client side: every request
  exactly as ``PBXClient`` put it on the wire, and the response as it came back.
- :class:`RecordingASGI` wraps the fake PBX's ASGI app: every request as the fake received it
  and every response exactly as it sent it (including to raw requests no client made).

Nothing is mocked: uvicorn and a TCP socket sit between the two.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import parse_qsl

import httpx
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["Exchange", "RecordingASGI", "RecordingTransport"]

Side = Literal["client", "fake"]


@dataclass
class Exchange:
    """One request and its response, as seen from one side."""

    side: Side
    method: str
    path: str  # the full path, /api included
    query: list[tuple[str, str]]
    headers: dict[str, str]  # lower-case names
    body: bytes
    status: int = 0
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: bytes = b""

    def __str__(self) -> str:
        query = "&".join(f"{k}={v}" for k, v in self.query)
        return f"[{self.side}] {self.method} {self.path}{'?' + query if query else ''}"


class RecordingTransport(httpx.AsyncBaseTransport):
    """Real HTTP through ``httpx.AsyncHTTPTransport``, with every exchange kept."""

    def __init__(self) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self.exchanges: list[Exchange] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        exchange = Exchange(
            side="client",
            method=request.method,
            path=request.url.path,
            query=parse_qsl(request.url.query.decode(), keep_blank_values=True),
            headers={k.lower(): v for k, v in request.headers.items()},
            body=body,
        )
        self.exchanges.append(exchange)
        response = await self._inner.handle_async_request(request)
        content = await response.aread()
        exchange.status = response.status_code
        exchange.response_headers = {k.lower(): v for k, v in response.headers.items()}
        exchange.response_body = content
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            content=content,
            extensions=response.extensions,
            request=request,
        )

    async def aclose(self) -> None:
        await self._inner.aclose()


class RecordingASGI:
    """An ASGI middleware keeping what the wrapped app received and sent, over HTTP."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.exchanges: list[Exchange] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        exchange = Exchange(
            side="fake",
            method=scope["method"],
            path=scope["path"],
            query=parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True),
            headers={k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]},
            body=b"".join(chunks),
        )
        self.exchanges.append(exchange)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": exchange.body, "more_body": False}
            return await receive()  # after the body: wait for the disconnect, as the app would

        async def keep(message: Message) -> None:
            if message["type"] == "http.response.start":
                exchange.status = message["status"]
                exchange.response_headers = {
                    k.decode("latin-1").lower(): v.decode("latin-1")
                    for k, v in message.get("headers", [])
                }
            elif message["type"] == "http.response.body":
                exchange.response_body += message.get("body", b"")
            await send(message)

        await self.app(scope, replay, keep)
