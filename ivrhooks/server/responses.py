"""The one way the server wing answers (a complete JSON response in two ASGI messages) and reads
a request's body (bounded)."""

from __future__ import annotations

import json

from starlette.types import Receive, Scope, Send

from ivrhooks.errors import InboundError

__all__ = ["error_body", "read_body", "send_json"]

_JSON = (b"content-type", b"application/json")


async def send_json(
    send: Send, status: int, body: bytes, headers: tuple[tuple[bytes, bytes], ...] = ()
) -> None:
    """Send ``body`` (already JSON) with ``status`` and any extra ``headers``."""
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [_JSON, (b"content-length", b"%d" % len(body)), *headers],
        }
    )
    await send({"type": "http.response.body", "body": body})


def error_body(message: str) -> bytes:
    """``{"error": message}`` as bytes."""
    return json.dumps({"error": message}).encode()


async def read_body(scope: Scope, receive: Receive, max_body: int) -> bytes:
    """The request's body, at most ``max_body`` bytes; raises :class:`InboundError` (a 400 to
    answer) for a larger one, told by its ``Content-Length`` before reading, and for a client
    that went away."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            if not value.isdigit() or int(value) > max_body:
                raise InboundError(f"the body is larger than {max_body} bytes")
            break
    body = b""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise InboundError("the client went away", status=400)
        chunk: bytes = message.get("body", b"")
        body += chunk
        if len(body) > max_body:
            raise InboundError(f"the body is larger than {max_body} bytes")
        if not message.get("more_body", False):
            return body
