"""The verdict every verifier returns, and the interface the request endpoint calls.

Verifiers are sans-I/O: the method, the raw request-target and the ``Authorization`` values go in,
a :class:`Verdict` comes out. ``reason`` is a short word for logs and metrics and never carries a
secret; the status and body a client sees do not depend on it (only the challenge headers do).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

__all__ = ["OK", "Authenticator", "Scheme", "Verdict", "reject", "single_header"]

Scheme = Literal["basic", "digest", "bearer", "none"]


@dataclass(frozen=True, slots=True)
class Verdict:
    ok: bool
    status: int  # 200 when ok, else 401 / 403 / 429
    reason: str  # "ok", "missing", "malformed", "bad_credentials", ... (never a secret)
    headers: tuple[tuple[bytes, bytes], ...] = ()  # e.g. WWW-Authenticate, Retry-After
    username: str | None = None


OK = Verdict(ok=True, status=200, reason="ok")


class Authenticator(Protocol):
    """One per route (action URL)."""

    scheme: Scheme
    route_id: str

    def check(
        self, method: str, target: bytes, authorization: list[bytes], now: float | None = None
    ) -> Verdict: ...


def reject(reason: str, challenge: tuple[tuple[bytes, bytes], ...]) -> Verdict:
    """A 401 carrying the scheme's challenge (RFC 9110 §11.6.1: every 401 has one)."""
    return Verdict(ok=False, status=401, reason=reason, headers=challenge)


def single_header(authorization: list[bytes]) -> bytes | str:
    """The one ``Authorization`` value, or the reason there is not exactly one."""
    if not authorization:
        return "missing"
    if len(authorization) > 1:
        # Two headers are two opinions; picking one is how proxies and apps end up disagreeing.
        return "multiple_headers"
    return authorization[0]
