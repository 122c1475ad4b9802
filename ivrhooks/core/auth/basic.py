"""HTTP Basic (RFC 7617) and Bearer (RFC 6750 §2.1) verifiers.

Everything that can be precomputed per route is precomputed at build time, so a check is a
base64 decode, two regex matches and one constant-time comparison.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import re
from collections.abc import Callable
from typing import Protocol

from ivrhooks.core.auth.params import AuthHeaderError, split_scheme
from ivrhooks.core.auth.verdict import Pending, Scheme, Verdict, reject, single_header
from ivrhooks.core.types import CREDENTIAL_RE

__all__ = ["BasicAuthenticator", "BearerAuthenticator", "PasswordStore"]

_CRED = re.compile(CREDENTIAL_RE.encode())
# RFC 6750 §2.1 b64token; bounded so a megabyte of "A" is refused before any comparison.
_TOKEN = re.compile(rb"[A-Za-z0-9\-._~+/]{1,1024}=*")

_MAX_VERDICTS = 1024


class PasswordStore(Protocol):
    """Static passwords kept as hashes (an htpasswd or htdigest file)."""

    slow: bool
    """Whether :meth:`verify` costs a slow hash (bcrypt): then it runs off the event loop."""

    def remembered(self, username: str, password: str) -> bool:
        """A success seen before (cheap: no hash)."""
        ...

    def verify(self, username: str, password: str) -> bool | None:
        """True / False, or None for an unknown user, after the same work either way."""
        ...


def _quote(value: str) -> bytes:
    return value.replace("\\", "\\\\").replace('"', '\\"').encode("ascii")


class BasicAuthenticator:
    """Basic for one route: a table of accepted ``username -> password`` bytes and/or a check."""

    scheme: Scheme = "basic"

    def __init__(
        self,
        route_id: str,
        realm: str,
        passwords: Callable[[], dict[bytes, bytes]],
        store: PasswordStore | None = None,
        *,
        guessable: bool = True,
    ) -> None:
        self.route_id = route_id
        self.guessable = guessable
        self._passwords = passwords
        self._store = store
        # RFC 7617 §2.1: charset="UTF-8" is the only value allowed; our credentials are ASCII.
        value = b'Basic realm="' + _quote(realm) + b'", charset="UTF-8"'
        self._challenge = ((b"www-authenticate", value),)
        # One immutable verdict per accepted username, made once: building a frozen dataclass
        # per request cost a fifth of the check. Bounded by the usernames that ever passed.
        self._verdicts: dict[bytes, Verdict] = {}
        # Authorization header -> (the password table it passed against, its verdict).
        self._remembered: dict[bytes, tuple[dict[bytes, bytes], Verdict]] = {}

    def _accepted(self, user: bytes) -> Verdict:
        verdict = self._verdicts.get(user)
        if verdict is None:
            if len(self._verdicts) >= _MAX_VERDICTS:
                self._verdicts.clear()
            name = user.decode()
            verdict = Verdict(ok=True, status=200, reason="ok", username=name, claimed=name)
            self._verdicts[user] = verdict
        return verdict

    def _judge(self, user: bytes, verified: bool | None) -> Verdict:
        if verified:
            return self._accepted(user)
        reason = "bad_credentials" if verified is False else "unknown_user"
        return reject(reason, self._challenge, user.decode())

    def check(
        self, method: str, target: bytes, authorization: list[bytes], now: float | None = None
    ) -> Verdict | Pending:
        value = single_header(authorization)
        if isinstance(value, str):
            return reject(value, self._challenge)
        table = self._passwords()
        # A header that passed against this very table passes again: skip the parse, decode and
        # comparison. Keyed by the whole header, so only a byte-identical header hits (the dict
        # compares a value only after its keyed SipHash matched, which an attacker cannot aim
        # at); checked against the table's identity, so retiring a secret empties it in effect.
        remembered = self._remembered.get(value)
        if remembered is not None and remembered[0] is table:
            return remembered[1]
        try:
            scheme, rest = split_scheme(value)
        except AuthHeaderError:
            return reject("malformed", self._challenge)
        if scheme != "basic":
            return reject("wrong_scheme", self._challenge)
        try:
            # validate=True: without it, junk around valid base64 is silently skipped.
            decoded = base64.b64decode(rest, validate=True)
        except (binascii.Error, ValueError):
            return reject("malformed", self._challenge)
        user, colon, password = decoded.partition(b":")
        # The path every genuine request takes, first: a known user and the right password (the
        # stored ones are valid credentials, so matching one proves the syntax as well).
        expected = table.get(user) if colon else None
        if expected is not None and hmac.compare_digest(password, expected):
            verdict = self._accepted(user)
            if len(self._remembered) >= _MAX_VERDICTS:
                self._remembered.clear()
            self._remembered[value] = (table, verdict)
            return verdict
        if not colon or not _CRED.fullmatch(user) or not _CRED.fullmatch(password):
            return reject("malformed", self._challenge)
        claimed = user.decode()
        if expected is not None:
            return reject("bad_credentials", self._challenge, claimed)
        store = self._store
        if store is not None:
            secret = password.decode()
            if not store.slow:
                return self._judge(user, store.verify(claimed, secret))
            if store.remembered(claimed, secret):
                return self._accepted(user)
            return Pending(claimed, lambda: self._judge(user, store.verify(claimed, secret)))
        # Same work as a wrong password, so timing does not enumerate usernames.
        hmac.compare_digest(password, b"\x00" * len(password))
        return reject("unknown_user", self._challenge, claimed)


class BearerAuthenticator:
    """Bearer for one route: the token from the ``Authorization`` header only (RFC 6750 §2.1).

    Query-string tokens (RFC 6750 §2.3) are never read: GET action URLs end up in access logs.
    """

    scheme: Scheme = "bearer"
    guessable = False  # derived tokens are 256 bits, static ones 16+ b64token characters

    def __init__(self, route_id: str, realm: str, tokens: Callable[[], tuple[bytes, ...]]) -> None:
        self.route_id = route_id
        self._tokens = tokens
        base = b'Bearer realm="' + _quote(realm) + b'"'
        self._challenge = ((b"www-authenticate", base),)
        # RFC 6750 §3.1: error="invalid_token" when a token was presented and refused.
        self._invalid = ((b"www-authenticate", base + b', error="invalid_token"'),)

    def check(
        self, method: str, target: bytes, authorization: list[bytes], now: float | None = None
    ) -> Verdict:
        value = single_header(authorization)
        if isinstance(value, str):
            return reject(value, self._challenge)
        try:
            scheme, rest = split_scheme(value)
        except AuthHeaderError:
            return reject("malformed", self._challenge)
        if scheme != "bearer":
            return reject("wrong_scheme", self._challenge)
        rest = rest.rstrip(b" \t")
        if not _TOKEN.fullmatch(rest):
            return reject("malformed", self._invalid)
        ok = False
        for token in self._tokens():
            # No early exit: the time taken does not say which of the tokens matched.
            ok |= hmac.compare_digest(rest, token)
        if ok:
            return Verdict(ok=True, status=200, reason="ok")
        return reject("bad_credentials", self._invalid)
