"""The ASGI half of authentication: judge a request's credentials, and answer a rejection.

The endpoint calls :func:`authenticate` before it reads the body, so an unauthenticated body is
never read; the verifiers themselves (``ivrhooks.auth``) know nothing of ASGI. Only a check that
needs a slow hash awaits anything (:func:`finish`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from contextvars import ContextVar

from starlette.types import Scope, Send

from ivrhooks.core.auth.guard import AuthGuard
from ivrhooks.core.auth.verdict import Authenticator, Deferred, Pending, Verdict
from ivrhooks.observe.metrics import AUTH_CHALLENGES
from ivrhooks.observe.observer import Observer
from ivrhooks.runtime import Signals
from ivrhooks.server.hashing import BUSY, HashRunner
from ivrhooks.server.responses import error_body, send_json

__all__ = [
    "ADMISSION",
    "NOT_FAILURES",
    "admit",
    "authenticate",
    "conclude",
    "finish",
    "reject",
    "request_target",
    "send_rejection",
    "settle",
]

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

ADMISSION: ContextVar[Callable[[bool], None] | None] = ContextVar(
    "ivrhooks_admission", default=None
)
"""Told, once per request, whether its credentials admitted it (``True``: before the body is
read; ``False``: before the rejection is logged and sent), when someone listens: the request's
span (``ivrhooks.server.tracing``) starts only then, since whose trace it joins depends on it.
A context variable because the endpoint's calls here are what they are with tracing off too."""


def _admitted() -> None:
    listener = ADMISSION.get()
    if listener is not None:
        listener(True)


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
) -> tuple[Verdict | Pending | Deferred, str]:
    """Judge one request's credentials: the verdict (or a :class:`Pending` slow check, for
    :func:`finish`) and the client address it was judged for.

    The allow-list first; then the verifier; then the throttle's word on the outcome (see
    ``ivrhooks.auth.throttle``): correct credentials that cannot be guessed are always answered,
    guessable ones on a throttled key only when known-good; a request without credentials always
    gets its challenge; any other failure on a throttled key is 429, and counts otherwise.
    """
    ip = guard.client_ip(scope)
    forbidden = guard.forbidden(ip)
    if forbidden is not None:
        return forbidden, ip
    authorization = [v for k, v in scope["headers"] if k == b"authorization"]
    result = authenticator.check(scope["method"], request_target(scope), authorization)
    if result.ok and not authenticator.guessable:
        _admitted()
        return result, ip  # the hot path: correct derived credentials (a Pending is not ok)
    throttle = guard.throttle
    route = authenticator.route_id
    if isinstance(result, Pending):
        # Never a slow hash for a throttled key or a source past its slow budget.
        return throttle.refuses_failure(ip, route, result.claimed, slow=True) or result, ip
    if isinstance(result, Deferred):
        # A correct response, its nc still to be recorded in the shared store (settle()).
        if authenticator.guessable:
            limited = throttle.accepts_success(ip, route, result.claimed)
            if limited is not None:
                return limited, ip
        return result, ip
    reason = result.reason
    if result.ok or reason in ("stale", "replay"):  # a correct response, an old or used nonce
        if authenticator.guessable:
            limited = throttle.accepts_success(ip, route, result.claimed)
            if limited is not None:
                return limited, ip
            if result.ok:
                throttle.succeeded(ip, route, result.claimed)
        if result.ok:
            _admitted()
        return result, ip
    if reason == "missing":
        return result, ip  # the challenge, always: every Digest call starts here
    limited = throttle.refuses_failure(ip, route, result.claimed)
    if limited is not None:
        return limited, ip
    throttle.failed(ip, route, result.claimed)
    return result, ip


async def admit(
    verdict: Pending | Deferred | Verdict,
    ip: str,
    send: Send,
    authenticator: Authenticator,
    guard: AuthGuard,
    hashing: HashRunner,
    signals: Signals,
    observer: Observer,
    route_id: str,
    until: float,
) -> bool:
    """Whether a request whose credentials did not admit it at once (:func:`authenticate`'s
    verdict not ``ok``) is admitted after all, for every endpoint with auth (action URLs and
    event URLs alike). A check that cannot answer at once (a slow hash, a Digest ``nc`` in the
    shared store) runs until ``until`` at the latest (the loop's clock). Refused, it is answered
    here, the observer hears ``rejected`` and the signals ``refused``. The admitted-at-once path
    stays with the caller: no coroutine for the request most calls are."""
    within = until - asyncio.get_running_loop().time()
    verdict = await conclude(verdict, ip, authenticator, guard, hashing, within)
    if not verdict.ok:
        await reject(send, verdict, ip, authenticator)
        observer.rejected(route_id, verdict)
        signals.refused(verdict, ip)
        return False
    signals.authenticated(ip)
    return True


async def conclude(
    verdict: Pending | Deferred | Verdict,
    ip: str,
    authenticator: Authenticator,
    guard: AuthGuard,
    hashing: HashRunner,
    within: float,
) -> Verdict:
    """The final verdict of a check that did not answer at once: a slow hash run off the loop
    (:func:`finish`, at most ``within`` seconds), or a Digest ``nc`` recorded in the shared
    store (:func:`settle`); any other verdict as it is."""
    if isinstance(verdict, Pending):
        return await finish(verdict, ip, authenticator, guard, hashing, within)
    if isinstance(verdict, Deferred):
        return await settle(verdict, ip, authenticator, guard)
    return verdict


async def settle(
    deferred: Deferred, ip: str, authenticator: Authenticator, guard: AuthGuard
) -> Verdict:
    """Record a correct Digest response's nc in the shared store: accepted, or a replay."""
    verdict = await deferred.resolve()
    if verdict.ok:
        if authenticator.guessable:
            guard.throttle.succeeded(ip, authenticator.route_id, verdict.claimed)
        _admitted()
    return verdict


async def finish(
    pending: Pending,
    ip: str,
    authenticator: Authenticator,
    guard: AuthGuard,
    hashing: HashRunner,
    within: float,
) -> Verdict:
    """Run a slow check off the event loop (bounded), then count it like any other outcome."""
    verdict = await hashing.run(pending.finish, within)
    if verdict is BUSY:
        return verdict
    throttle = guard.throttle
    route = authenticator.route_id
    if verdict.ok:  # slow hashes are static passwords: guessable
        # Other failures may have throttled the key while this one hashed: the same rule as a
        # fast success, so a right guess admitted just before the throttle is not told apart.
        limited = throttle.accepts_success(ip, route, verdict.claimed)
        if limited is not None:
            return limited
        throttle.succeeded(ip, route, verdict.claimed)
        _admitted()
    else:
        throttle.failed(ip, route, pending.claimed, slow=True)
    return verdict


async def reject(send: Send, verdict: Verdict, ip: str, authenticator: Authenticator) -> None:
    """Log the rejection (one structured line, never a header, query or secret) and answer it."""
    listener = ADMISSION.get()
    if listener is not None:
        listener(False)  # before the line: it carries the request's trace
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
