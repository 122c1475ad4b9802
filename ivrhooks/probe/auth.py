"""The probe's side of the action URL's auth: credentials to register, a challenge to send, and
a description of what the PBX answered it with (never the secret parts).

PortSIP documents the schemes (DISABLE, BASIC, DIGEST, BEARER) and not how its client speaks
them (reference/portsip.md §1): whether it sends credentials before a challenge, which Digest
``algorithm`` and ``qop`` it picks, whether it reuses a nonce (with ``nc`` counting up) or asks
for a new one each time, and whether its ``uri`` is the request-target ivrhooks compares byte
for byte (RFC 7616 §3.4). The probe offers what ivrhooks offers by default (``qop="auth"``,
``algorithm=MD5``) and writes down the reply.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import string
from dataclasses import dataclass, field

from ivrhooks.core.auth.digest import ALGORITHMS, digest_ha1, digest_response
from ivrhooks.core.auth.params import AuthHeaderError, parse_auth_params, split_scheme
from ivrhooks.core.types import Scheme
from ivrhooks.probe.seen import AuthSeen

__all__ = ["REALM", "ProbeAuth", "Verdict"]

REALM = "ivrhooks-probe"
_ALPHABET = string.ascii_lowercase + string.digits


def _token(length: int) -> str:
    # PortSIP keeps action-URL usernames and passwords as [a-z0-9]{6,64} (reference §1).
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


@dataclass(frozen=True)
class Verdict:
    """Whether to answer the request, and what it carried."""

    ok: bool
    seen: AuthSeen
    challenge: tuple[tuple[bytes, bytes], ...] = ()
    """Headers of the 401 to send when not ``ok``."""


@dataclass
class ProbeAuth:
    """One scheme and its fresh credentials; issued nonces are remembered for the run."""

    scheme: Scheme
    username: str = field(default_factory=lambda: "probe" + _token(10))
    password: str = field(default_factory=lambda: _token(32))
    token: str = field(default_factory=lambda: _token(40))
    _issued: set[str] = field(default_factory=set)
    _used: set[str] = field(default_factory=set)
    _opaque: str = field(default_factory=lambda: _token(16))

    def challenge(self) -> tuple[tuple[bytes, bytes], ...]:
        if self.scheme == "digest":
            nonce = secrets.token_hex(16)
            self._issued.add(nonce)
            value = (
                f'Digest realm="{REALM}", qop="auth", algorithm=MD5, nonce="{nonce}", '
                f'opaque="{self._opaque}"'
            )
        elif self.scheme == "basic":
            value = f'Basic realm="{REALM}"'
        else:
            value = f'Bearer realm="{REALM}"'
        return ((b"www-authenticate", value.encode("ascii")),)

    def check(self, method: str, target: bytes, authorization: bytes | None) -> Verdict:
        """The verdict on one request's ``Authorization`` (``None``: none sent)."""
        if authorization is None:
            if self.scheme == "none":
                return Verdict(True, AuthSeen())
            return Verdict(False, AuthSeen(), self.challenge())
        seen = AuthSeen()
        try:
            scheme, rest = split_scheme(authorization)
        except AuthHeaderError:
            seen.scheme = "(unreadable)"
            return self._after(seen)
        seen.scheme = authorization.decode("latin-1").split(" ", 1)[0]
        if scheme == "digest":
            self._digest(seen, method, target, rest)
        elif scheme == "basic":
            expected = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
            seen.verified = hmac.compare_digest(rest.strip(), expected.encode())
        elif scheme == "bearer":
            seen.verified = hmac.compare_digest(rest.strip(), self.token.encode())
        return self._after(seen)

    def _after(self, seen: AuthSeen) -> Verdict:
        if self.scheme == "none" or seen.verified:
            return Verdict(True, seen)
        return Verdict(False, seen, self.challenge())

    def describe(self, seen: AuthSeen) -> str | None:
        """What stands for the header's value in the record."""
        if seen.scheme is None:
            return None
        if seen.params:
            return f"{seen.scheme} <{', '.join(seen.params)}>"
        return f"{seen.scheme} <credentials>"

    def _digest(self, seen: AuthSeen, method: str, target: bytes, rest: bytes) -> None:
        try:
            p = parse_auth_params(rest)
        except AuthHeaderError:
            seen.verified = False
            return
        seen.params = list(p)
        seen.algorithm = p.get("algorithm")
        seen.qop = p.get("qop")
        seen.nc = p.get("nc")
        uri = p.get("uri", "")
        seen.uri_matches = uri.encode("latin-1", "replace") == target
        nonce = p.get("nonce", "")
        if nonce not in self._issued:
            seen.nonce, seen.verified = "unknown", False
            return
        seen.nonce = "reused" if nonce in self._used else "issued"
        algorithm = (seen.algorithm or "MD5").upper()
        if algorithm not in ALGORITHMS or p.get("username") != self.username:
            seen.verified = False
            return
        ha1 = digest_ha1(algorithm, self.username, REALM, self.password)
        if seen.qop:
            expected = digest_response(
                algorithm,
                ha1,
                nonce=nonce,
                nc=p.get("nc", ""),
                cnonce=p.get("cnonce", ""),
                qop=seen.qop,
                method=method,
                uri=uri.encode("latin-1", "replace"),
            )
        else:
            # RFC 2069, no qop: H(HA1:nonce:HA2). ivrhooks refuses it; the probe notes it.
            name = ALGORITHMS[algorithm]
            ha2 = hashlib.new(name, f"{method}:{uri}".encode("latin-1", "replace")).hexdigest()
            expected = hashlib.new(name, ha1 + f":{nonce}:{ha2}".encode()).hexdigest().encode()
        seen.verified = hmac.compare_digest(p.get("response", "").lower().encode(), expected)
        if seen.verified:
            self._used.add(nonce)
