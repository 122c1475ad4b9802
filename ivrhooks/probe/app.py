"""The probe's own server: a small ASGI app that records every request and answers as the step
under way says (:mod:`.session`).

Plain ASGI, served by uvicorn (``ivrhooks.server.serve``): the probe has to answer in ways no
well-behaved app does (a 500, a body that is not JSON, an answer held past the PBX's timeout)
and to notice the PBX hanging up on a late answer, which ASGI reports as ``http.disconnect``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any, Literal

from ivrhooks.probe.auth import ProbeAuth
from ivrhooks.probe.seen import MAX_BODY, Seen, masked_query, read_fields, sanitise_headers
from ivrhooks.probe.session import Plan, ProbeSession

__all__ = ["INVALID_JSON", "ProbeApp"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

#: The body of the "not JSON" answer: a decision cut short, what a crashing app sends.
INVALID_JSON = b'{"status_code":200,"action":'
_JSON = (b"content-type", b"application/json")


async def _read_body(receive: Receive) -> tuple[bytes, bool]:
    """The body, up to ``MAX_BODY`` kept; and whether the client went away meanwhile."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b"".join(chunks), True
        body = message.get("body", b"")
        if size < MAX_BODY:
            chunks.append(body[: MAX_BODY - size])
        size += len(body)
        if not message.get("more_body", False):
            return b"".join(chunks), False


async def _answer(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    length = (b"content-length", str(len(body)).encode())
    await send({"type": "http.response.start", "status": status, "headers": [*headers, length]})
    await send({"type": "http.response.body", "body": body})


class ProbeApp:
    """``paths`` maps each registered path to the kind of action URL it serves."""

    def __init__(
        self,
        session: ProbeSession,
        auth: ProbeAuth,
        paths: Mapping[str, Literal["dtmf", "caller"]],
    ) -> None:
        self.session = session
        self.auth = auth
        self.paths = dict(paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        at = self.session.now()
        body, gone = await _read_body(receive)
        seen = self._seen(scope, body, at)
        route = self.paths.get(seen.path)
        authorization = next(
            (v for k, v in scope["headers"] if k.lower() == b"authorization"), None
        )
        if route is None:
            seen.kind, seen.answer = "other_path", "HTTP 404"
            self.session.record(seen)
            await _answer(send, 404, b'{"error":"not a path the probe registered"}', [_JSON])
            return
        seen.route = route
        raw = scope.get("raw_path") or seen.path.encode()
        query = scope.get("query_string", b"")
        target = raw + (b"?" + query if query else b"")
        verdict = self.auth.check(seen.method, target, authorization)
        seen.auth = verdict.seen
        seen.headers = sanitise_headers(scope["headers"], self.auth.describe(verdict.seen))
        if not verdict.ok:
            seen.kind = "challenged" if authorization is None else "refused"
            seen.answer = "HTTP 401 with a challenge"
            self.session.record(seen)
            await _answer(send, 401, b"", list(verdict.challenge))
            return
        plan = self.session.admit(seen)
        try:
            await self._respond(plan, seen, receive, send, gone)
        finally:
            seen.answered_after = round(self.session.now() - seen.at, 3)
            self.session.done(seen)

    def _seen(self, scope: Scope, body: bytes, at: float) -> Seen:
        headers: list[tuple[bytes, bytes]] = scope["headers"]
        content_type = next(
            (v.decode("latin-1") for k, v in headers if k.lower() == b"content-type"), None
        )
        query = scope.get("query_string", b"").decode("latin-1")
        method = scope["method"]
        fields, order, encoding, strings, text = read_fields(method, query, content_type, body)
        client = scope.get("client") or (None, None)
        return Seen(
            index=len(self.session.seen) + 1,
            at=round(at, 3),
            method=method,
            path=scope["path"],
            query=masked_query(query),
            headers=sanitise_headers(headers, None),
            content_type=content_type,
            body=text,
            encoding=encoding,
            fields=fields,
            field_order=order,
            strings=strings,
            source=client[0],
            port=client[1],
        )

    async def _respond(
        self, plan: Plan, seen: Seen, receive: Receive, send: Send, gone: bool
    ) -> None:
        if plan.kind == "status":
            seen.answer = plan.says
            body = json.dumps({"error": "ivrhooks probe: a deliberate 500"}).encode()
            await _answer(send, 500, body, [_JSON])
            return
        if plan.kind == "invalid_json":
            seen.answer = plan.says
            await _answer(send, 200, INVALID_JSON, [_JSON])
            return
        if plan.kind == "late":
            seen.closed_early = gone or await self._gone_within(receive, plan.wait)
            if seen.closed_early:
                seen.answer = "nothing: the PBX closed the connection first"
                return
        seen.answer = plan.says
        await _answer(send, 200, plan.decision.body(), [_JSON])

    @staticmethod
    async def _gone_within(receive: Receive, seconds: float) -> bool:
        """Whether the client disconnects within ``seconds`` (uvicorn's ``receive`` returns
        ``http.disconnect`` once the body is read and the connection drops)."""
        try:
            async with asyncio.timeout(seconds):
                while (await receive())["type"] != "http.disconnect":
                    pass
        except TimeoutError:
            return False
        return True
