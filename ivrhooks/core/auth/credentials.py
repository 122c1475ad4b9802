"""Per-route credentials derived from one application secret, and secret rotation.

The PBX stores a username and password (pattern ``[a-z0-9]{6,64}``, see reference/portsip.md §1)
or a bearer token on each action URL. Deriving them with HMAC-SHA256 from one secret and the
route's identity means nothing per-route has to be stored, every process derives the same values,
and the credentials of one action URL never open another (each purpose has its own label:
domain separation, so a username can never be mistaken for a password or a token).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets as _secrets
from dataclasses import dataclass

from ivrhooks.core.types import CREDENTIAL_PATTERN
from ivrhooks.errors import ConfigurationError

__all__ = [
    "CREDENTIAL_PATTERN",
    "Credentials",
    "Secrets",
    "derive_credentials",
    "derive_key",
    "generate_secret",
]

_ROUTE_ID = re.compile(r"[\x21-\x7e]{1,128}")
_LABEL = b"ivrhooks/v1/"
MIN_SECRET_LENGTH = 16


@dataclass(frozen=True, slots=True)
class Credentials:
    """What registration writes on an action URL and what the verifiers accept."""

    username: str
    password: str
    token: str

    def __repr__(self) -> str:
        # Never let a secret reach a log line through a repr.
        return f"Credentials(username={self.username!r}, password=***, token=***)"


def _key(secret: str | bytes) -> bytes:
    key = secret.encode("utf-8") if isinstance(secret, str) else bytes(secret)
    if len(key) < MIN_SECRET_LENGTH:
        raise ConfigurationError(
            f"secret: must be at least {MIN_SECRET_LENGTH} bytes; "
            "create one with `python -c 'import ivrhooks.auth as a; print(a.generate_secret())'`"
        )
    return key


def derive_key(secret: str | bytes, purpose: str, *context: str) -> bytes:
    """HMAC-SHA256 of a labelled, NUL-separated message: one independent key per purpose."""
    message = _LABEL + b"\x00".join(p.encode("utf-8") for p in (purpose, *context))
    return hmac.new(_key(secret), message, hashlib.sha256).digest()


def _base36(data: bytes) -> str:
    n = int.from_bytes(data, "big")
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = []
    while n:
        n, r = divmod(n, 36)
        out.append(digits[r])
    # 256 bits need at most 50 base-36 digits; pad so the length never depends on the value.
    return "".join(reversed(out)).rjust(50, "0")


def derive_credentials(secret: str | bytes, route_id: str) -> Credentials:
    """Deterministic credentials for one route (action URL) from the application secret."""
    if not isinstance(route_id, str) or not _ROUTE_ID.fullmatch(route_id):
        raise ConfigurationError(
            f"route_id: {route_id!r} must be 1..128 visible ASCII characters (e.g. 'sales')"
        )
    username = derive_key(secret, "username", route_id).hex()[:20]
    password = _base36(derive_key(secret, "password", route_id))
    token = base64.urlsafe_b64encode(derive_key(secret, "token", route_id)).rstrip(b"=").decode()
    return Credentials(username=username, password=password, token=token)


def generate_secret() -> str:
    """A fresh 256-bit application secret, URL-safe text."""
    return _secrets.token_urlsafe(32)


class Secrets:
    """The current application secret and, during a rotation, the previous one.

    Rotation: start with ``Secrets(current=new, previous=old)``. Both are accepted until
    registration has written the new credentials on the PBX; registration then calls
    :meth:`retire_previous` and from then on only ``current`` opens anything.
    """

    __slots__ = ("_current", "_previous")

    def __init__(self, current: str, previous: str | None = None) -> None:
        _key(current)
        if previous is not None:
            _key(previous)
            if hmac.compare_digest(previous.encode(), current.encode()):
                raise ConfigurationError("secrets: previous must differ from current")
        self._current = current
        self._previous = previous

    @property
    def current(self) -> str:
        return self._current

    @property
    def previous(self) -> str | None:
        return self._previous

    def accepted(self) -> tuple[str, ...]:
        """The secrets to accept right now, current first."""
        return (self._current,) if self._previous is None else (self._current, self._previous)

    def retire_previous(self) -> None:
        """Stop accepting the previous secret (idempotent)."""
        self._previous = None

    def __repr__(self) -> str:
        rotating = self._previous is not None
        return f"Secrets(current=***, previous={'***' if rotating else None})"
