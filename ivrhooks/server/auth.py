"""The ASGI half of authentication: judge a request's credentials, and answer a rejection.

The endpoint calls :func:`authenticate` before it reads the body, so an unauthenticated body is
never read; the verifiers themselves (``ivrhooks.auth``) know nothing of ASGI.
"""

from __future__ import annotations

import logging

from starlette.types import Scope, Send

from ivrhooks.auth.guard import AuthGuard
from ivrhooks.auth.verdict import Authenticator, Verdict
from ivrhooks.metrics import AUTH_CHALLENGES
from ivrhooks.server.responses import error_body, send_json

__all__ = ["NOT_FAILURES", "authenticate", "reject", "request_target", "send_rejection"]

logger = logging.getLogger("ivrhooks.auth")

# A Digest client's first request has no credentials by design (it needs the challenge), and a
# stale nonce comes with a correct response: neither is a guess, so neither counts towards
# throttling (otherwise ten calls a minute from the PBX would lock it out), nor as a failure in
# the metrics, nor as a rejection in the log.
NOT_FAILURES = frozenset(AUTH_CHALLENGES)

_BODIES = {
    401: error_body("unauthorized"),
    403: error_body("forbidden"),
    429: error_body("too_many_requests"),
}
_NO_STORE = ((b"cache-control", b"no-store"),)


async def send_rejection(send: Send, verdict: Verdict) -> None:
    """Send the rejection; the body depends on the status only, never on the reason."""
    body = _BODIES.get(verdict.status, error_body("rejected"))
    await send_json(send, verdict.status, body, _NO_STORE + verdict.headers)


def request_target(scope: Scope) -> bytes:
    """The raw request-target: raw path (uvicorn prefixes ``--root-path``) + ``?`` + raw query."""
    raw = scope.get("raw_path")
    if raw is None:
        raw = (scope.get("root_path", "") + scope["path"]).encode("utf-8")
    query: bytes = scope.get("query_string", b"")
    return bytes(raw) + b"?" + query if query else bytes(raw)


def authenticate(
    scope: Scope, authenticator: Authenticator, guard: AuthGuard
) -> tuple[Verdict, str]:
    """Check one request's credentials (allow-list and throttling first); the verdict and the
    client address it was judged for. Counts the failure towards throttling when it is one."""
    ip = guard.client_ip(scope)
    verdict = guard.before(ip)
    if verdict is None:
        authorization = [v for k, v in scope["headers"] if k == b"authorization"]
        verdict = authenticator.check(scope["method"], request_target(scope), authorization)
        if not verdict.ok and verdict.reason not in NOT_FAILURES:
            guard.failed(ip)
    return verdict, ip


async def reject(send: Send, verdict: Verdict, ip: str, authenticator: Authenticator) -> None:
    """Log the rejection (one structured line, never a header, query or secret) and answer it."""
    # A challenge answered to a request without credentials (or with a stale nonce) is the
    # normal first step of every Digest call: DEBUG, so operators' warnings stay meaningful.
    challenge = verdict.reason in NOT_FAILURES
    logger.log(
        logging.DEBUG if challenge else logging.WARNING,
        "auth challenge: %s" if challenge else "auth rejected: %s",
        verdict.reason,
        extra={
            "outcome": "challenged" if challenge else "rejected",
            "reason": verdict.reason,
            "status": verdict.status,
            "route_id": authenticator.route_id,
            "client_ip": ip,
            "scheme": authenticator.scheme,
        },
    )
    await send_rejection(send, verdict)
