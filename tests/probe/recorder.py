"""An action-URL receiver for the tests: it keeps every request exactly as it came."""

from __future__ import annotations

import json
from typing import Any

__all__ = ["Recorder"]


class Recorder:
    """An action-URL receiver that keeps every request as it came (headers in order, the raw
    body) and answers 500 to the first key, ``hangup`` to anything else."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = [(k.decode(), v.decode()) for k, v in scope["headers"]]
        query = scope["query_string"].decode()
        self.requests.append({"headers": headers, "body": body, "query": query})
        fields = json.loads(body) if body.startswith(b"{") else {}
        status = 500 if fields.get("input") == "1" else 200
        answer = b'{"status_code":200,"action":"hangup"}'
        response_headers = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": status, "headers": response_headers})
        await send({"type": "http.response.body", "body": answer})
