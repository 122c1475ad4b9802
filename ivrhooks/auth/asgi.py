"""The ASGI edge of authentication: answer a rejection, and ``protect`` an app with a verifier.

``protect`` authenticates before the wrapped app runs, so an unauthenticated body is never read.
"""

from __future__ import annotations

import json
import logging

from starlette.types import ASGIApp, Receive, Scope, Send

from ivrhooks.auth.guard import AuthGuard
from ivrhooks.auth.verdict import Authenticator, Verdict

__all__ = ["protect", "request_target", "send_rejection"]

logger = logging.getLogger("ivrhooks.auth")

_BODIES = {
    401: json.dumps({"error": "unauthorized"}).encode(),
    403: json.dumps({"error": "forbidden"}).encode(),
    429: json.dumps({"error": "too_many_requests"}).encode(),
}


async def send_rejection(send: Send, verdict: Verdict) -> None:
    """Send the rejection; the body depends on the status only, never on the reason."""
    body = _BODIES.get(verdict.status, json.dumps({"error": "rejected"}).encode())
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
        *verdict.headers,
    ]
    await send({"type": "http.response.start", "status": verdict.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def request_target(scope: Scope) -> bytes:
    """The raw request-target: raw path (uvicorn prefixes ``--root-path``) + ``?`` + raw query."""
    raw = scope.get("raw_path")
    if raw is None:
        raw = (scope.get("root_path", "") + scope["path"]).encode("utf-8")
    query: bytes = scope.get("query_string", b"")
    return bytes(raw) + b"?" + query if query else bytes(raw)


def protect(app: ASGIApp, authenticator: Authenticator, guard: AuthGuard) -> ASGIApp:
    """Wrap ``app`` so every HTTP request is authenticated first; other scopes pass through."""

    async def protected(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        ip = guard.client_ip(scope)
        verdict = guard.before(ip)
        if verdict is None:
            authorization = [v for k, v in scope["headers"] if k == b"authorization"]
            verdict = authenticator.check(scope["method"], request_target(scope), authorization)
            if verdict.ok:
                await app(scope, receive, send)
                return
            guard.failed(ip)
        # One structured line per failure; never the header, the query string or any secret.
        logger.warning(
            "auth rejected: %s",
            verdict.reason,
            extra={
                "outcome": "rejected",
                "reason": verdict.reason,
                "status": verdict.status,
                "route_id": authenticator.route_id,
                "client_ip": ip,
                "scheme": authenticator.scheme,
            },
        )
        await send_rejection(send, verdict)

    return protected
