"""A raw ASGI callable answering the pre-rendered decision: the ceiling for any framework."""

from __future__ import annotations

from typing import Any

from bench.apps import DECISION

_START = {
    "type": "http.response.start",
    "status": 200,
    "headers": [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(DECISION))],
}
_BODY = {"type": "http.response.body", "body": DECISION}


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            else:
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["method"] == "POST":
        while (await receive()).get("more_body"):
            pass
    await send(_START)
    await send(_BODY)
