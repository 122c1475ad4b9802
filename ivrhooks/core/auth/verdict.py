"""The verdict every verifier returns, and the interface the request endpoint calls.

Verifiers are sans-I/O: the method, the raw request-target and the ``Authorization`` values go in,
a :class:`Verdict` comes out. ``reason`` is a short word for logs and metrics and never carries a
secret; the status and body a client sees do not depend on it (only the challenge headers do).

A check that needs a slow password hash (bcrypt) returns a :class:`Pending` instead: the caller
runs :meth:`Pending.finish` off the event loop, with bounded concurrency. Everything else (derived
credentials, Digest, cached successes) answers at once, with no ``await`` on the hot path.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal, Protocol

__all__ = [
    "OK",
    "Authenticator",
    "Deferred",
    "Pending",
    "Scheme",
    "Verdict",
    "reject",
    "single_header",
]

Scheme = Literal["basic", "digest", "bearer", "none"]


@dataclass(frozen=True, slots=True)
class Verdict:
    ok: bool
    status: int  # 200 when ok, else 401 / 403 / 429
    reason: str  # "ok", "missing", "malformed", "bad_credentials", ... (never a secret)
    headers: tuple[tuple[bytes, bytes], ...] = ()  # e.g. WWW-Authenticate, Retry-After
    username: str | None = None  # who was authenticated (ok only)
    claimed: str | None = None
    """The username the request claimed, verified or not (what throttling counts failures by);
    ``None`` when the header named none (Bearer, missing, malformed)."""


OK = Verdict(ok=True, status=200, reason="ok")


class Pending:
    """A check that needs a slow password hash: :meth:`finish` it off the event loop."""

    __slots__ = ("_finish", "claimed")
    ok = False  # so ``if verdict.ok`` on the hot path reads the same for both

    def __init__(self, claimed: str, finish: Callable[[], Verdict]) -> None:
        self.claimed = claimed
        self._finish = finish

    def finish(self) -> Verdict:
        """Run the slow check (blocking: call it in a worker thread)."""
        return self._finish()


class Deferred:
    """A correct Digest response whose ``nc`` must still be recorded in the shared store (so a
    replica can refuse what another accepted): ``await resolve()``. The only await in auth
    besides a slow hash, and only with a shared store."""

    __slots__ = ("_resolve", "claimed")
    ok = False

    def __init__(self, claimed: str, resolve: Callable[[], Awaitable[Verdict]]) -> None:
        self.claimed = claimed
        self._resolve = resolve

    async def resolve(self) -> Verdict:
        return await self._resolve()


class Authenticator(Protocol):
    """One per route (action URL)."""

    scheme: Scheme
    route_id: str
    guessable: bool
    """Whether its credentials could be guessed at any request rate: static passwords yes;
    derived credentials (256-bit HMACs) and tokens (16+ characters) no. Throttling withholds a
    correct answer only where a guess could succeed (see ``ivrhooks.auth.throttle``)."""

    def check(
        self, method: str, target: bytes, authorization: list[bytes], now: float | None = None
    ) -> Verdict | Pending | Deferred: ...


def reject(
    reason: str, challenge: tuple[tuple[bytes, bytes], ...], claimed: str | None = None
) -> Verdict:
    """A 401 carrying the scheme's challenge (RFC 9110 §11.6.1: every 401 has one)."""
    return Verdict(ok=False, status=401, reason=reason, headers=challenge, claimed=claimed)


def single_header(authorization: list[bytes]) -> bytes | str:
    """The one ``Authorization`` value, or the reason there is not exactly one."""
    if not authorization:
        return "missing"
    if len(authorization) > 1:
        # Two headers are two opinions; picking one is how proxies and apps end up disagreeing.
        return "multiple_headers"
    return authorization[0]
