"""HTTP Digest (RFC 7616) verifier, ``qop=auth`` only, MD5 and optionally SHA-256.

Checks run in the order of reference/auth.md, cheapest and most telling first; every failure is a
401 with a fresh challenge. Deliberately unsupported (RFC 7616 §3.3 options clients get wrong or
attackers like): no ``qop`` (the RFC 2069 downgrade), ``auth-int``, ``-sess`` algorithms,
``userhash``, ``username*`` and SHA-512-256.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from collections.abc import Callable, Sequence
from functools import partial

from ivrhooks.core.auth.nonce import NonceCodec
from ivrhooks.core.auth.params import AuthHeaderError, parse_auth_params, split_scheme
from ivrhooks.core.auth.replay import ReplayStore, SharedReplayStore
from ivrhooks.core.auth.verdict import Deferred, Scheme, Verdict, reject, single_header
from ivrhooks.core.types import CREDENTIAL_PATTERN

__all__ = ["ALGORITHMS", "DigestAuthenticator", "digest_ha1", "digest_response"]

# RFC 7616 algorithm name -> hashlib name.
ALGORITHMS = {"MD5": "md5", "SHA-256": "sha256"}
_REQUIRED = ("username", "realm", "nonce", "uri", "response", "qop", "nc", "cnonce")
# RFC 7616 §3.4: nc is exactly 8 hex digits. Checked before int(): int(x, 16) also takes "0x10",
# "+1", "1_0" and non-ASCII digits.
_NC = re.compile(r"[0-9a-fA-F]{8}")
DEFAULT_LIFETIME = 300.0

# username -> {algorithm: HA1 as lower-case hex bytes}
HA1Table = dict[str, dict[str, bytes]]


def _h(algorithm: str, data: bytes) -> bytes:
    return hashlib.new(ALGORITHMS[algorithm], data).hexdigest().encode("ascii")


def digest_ha1(algorithm: str, username: str, realm: str, password: str) -> bytes:
    """RFC 7616 §3.4.2: ``H(username ":" realm ":" password)`` as lower-case hex."""
    return _h(algorithm, f"{username}:{realm}:{password}".encode())


def digest_response(
    algorithm: str,
    ha1: bytes,
    *,
    nonce: str,
    nc: str,
    cnonce: str,
    qop: str,
    method: str,
    uri: str | bytes,
) -> bytes:
    """RFC 7616 §3.4.1 ``response`` for ``qop=auth`` as lower-case hex."""
    uri_b = uri if isinstance(uri, bytes) else uri.encode("ascii")
    ha2 = _h(algorithm, method.encode("ascii") + b":" + uri_b)
    tail = f":{nonce}:{nc}:{cnonce}:{qop}:".encode("ascii")
    return _h(algorithm, ha1 + tail + ha2)


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


class DigestAuthenticator:
    """Digest for one route. ``users()`` and ``keys()`` are read per request (secret rotation)."""

    scheme: Scheme = "digest"

    def __init__(
        self,
        route_id: str,
        realm: str,
        *,
        algorithms: Sequence[str],
        users: Callable[[], HA1Table],
        keys: Callable[[], tuple[bytes, ...]],
        replay_store: ReplayStore | SharedReplayStore,
        clock: Callable[[], float],
        opaque: str,
        lifetime: float = DEFAULT_LIFETIME,
        guessable: bool = True,
    ) -> None:
        self.route_id = route_id
        self.guessable = guessable
        self.realm = realm
        self.algorithms = tuple(algorithms)
        self._users = users
        self._keys = keys
        # A shared window needs the store, an await: the check is then finished by the server.
        self._shared: SharedReplayStore | None = None
        self._store: ReplayStore | None = None
        if isinstance(replay_store, SharedReplayStore):
            self._shared = replay_store
        else:
            self._store = replay_store
        self._pending: tuple[str, int, float] = ("", 0, 0.0)  # set by _verify for check()
        self._clock = clock
        self._opaque = opaque
        self._lifetime = lifetime
        self._codecs = {alg: NonceCodec(realm, route_id, alg) for alg in self.algorithms}
        # Unknown users get a random HA1 and the full computation: no empty-HA1 bypass, no
        # timing difference between "no such user" and "wrong password".
        self._dummy = {alg: _h(alg, os.urandom(32)) for alg in self.algorithms}
        self._prefix = f'Digest realm="{_quote(realm)}", qop="auth", algorithm='

    def challenge(self, now: float, *, stale: bool = False) -> tuple[tuple[bytes, bytes], ...]:
        """One ``WWW-Authenticate`` per algorithm, preferred first (clients take the first)."""
        key = self._keys()[0]
        suffix = ", stale=true" if stale else ""
        return tuple(
            (
                b"www-authenticate",
                (
                    f'{self._prefix}{alg}, nonce="{self._codecs[alg].make(key, now)}", '
                    f'opaque="{self._opaque}"{suffix}'
                ).encode("ascii"),
            )
            for alg in self.algorithms
        )

    def check(
        self, method: str, target: bytes, authorization: list[bytes], now: float | None = None
    ) -> Verdict | Deferred:
        now = self._clock() if now is None else now
        reason, claimed, stale = self._verify(method, target, authorization, now)
        if reason == "ok":
            return Verdict(ok=True, status=200, reason="ok", username=claimed, claimed=claimed)
        if reason == "record" and claimed is not None:
            nonce, nc, issued = self._pending
            return Deferred(claimed, partial(self._record, nonce, claimed, nc, issued, now))
        return reject(reason, self.challenge(now, stale=stale), claimed)

    async def prepare(self) -> None:
        """Before serving: a shared replay window reads what it needs from its store (the
        store's epoch: see ``ivrhooks.store.replay``), so no nonce issued from now on is older
        than what it knows."""
        begin = getattr(self._shared, "begin", None)
        if begin is not None:
            await begin(self._clock())

    async def _record(
        self, nonce: str, username: str, nc: int, issued: float, now: float
    ) -> Verdict:
        assert self._shared is not None
        outcome = await self._shared.check_and_set(nonce, username, nc, issued, now)
        if outcome == "ok":
            return Verdict(ok=True, status=200, reason="ok", username=username, claimed=username)
        if outcome == "stale":
            # Issued before the shared window lost its state: a fresh nonce, at once.
            return reject("stale", self.challenge(now, stale=True), username)
        # Seen before: an exact resend of a correct request, or its replay. stale=true lets a
        # client that lost the first answer retry with a fresh nonce at once (RFC 7616 §3.3):
        # a lost reply must not become a lockout, and a replayer learns nothing from it.
        return reject("replay", self.challenge(now, stale=True), username)

    def _verify(
        self, method: str, target: bytes, authorization: list[bytes], now: float
    ) -> tuple[str, str | None, bool]:
        """``(reason, the username claimed, stale)``; the claimed name only when it is one the
        PBX could hold (it keys throttling, so it must not grow the tables without bound)."""
        value = single_header(authorization)
        if isinstance(value, str):
            return value, None, False
        try:
            scheme, rest = split_scheme(value)
            if scheme != "digest":
                return "wrong_scheme", None, False
            p = parse_auth_params(rest)
        except AuthHeaderError:
            return "malformed", None, False
        if "username*" in p:
            # RFC 7616 §3.4: username* (RFC 8187 encoding) MUST NOT be sent with username, and
            # PortSIP usernames are [a-z0-9] that never need it: two spellings of one identity
            # are how a check and a log (or a proxy) come to disagree about who asked.
            return ("malformed" if "username" in p else "unsupported"), None, False
        username = p.get("username", "")
        claimed = username if CREDENTIAL_PATTERN.fullmatch(username) else None
        if any(name not in p for name in _REQUIRED):
            return "missing_param", claimed, False
        if p.get("userhash", "false").lower() != "false":
            return "unsupported", claimed, False
        if p["realm"] != self.realm:
            return "wrong_realm", claimed, False
        algorithm = p.get("algorithm", "MD5").upper()  # RFC 7616 §3.3: absent means MD5
        if algorithm not in self._codecs:
            return "bad_algorithm", claimed, False
        if p["qop"] != "auth":
            return "bad_qop", claimed, False
        nc_text = p["nc"]
        if not _NC.fullmatch(nc_text) or (nc := int(nc_text, 16)) == 0:
            return "bad_nc", claimed, False
        if not p["cnonce"]:
            return "missing_param", claimed, False
        # Byte for byte against the raw request-target; never a URL rebuilt from Host.
        if not hmac.compare_digest(p["uri"].encode("ascii"), target):
            return "uri_mismatch", claimed, False
        keys = self._keys()
        nonce = p["nonce"]
        issued = self._codecs[algorithm].issued_at(nonce, keys, now)
        if issued is None:
            return "bad_nonce", claimed, False
        # opaque is a constant per route (see build.py): compared when sent, not required, since
        # the nonce's MAC already binds realm, route and algorithm (RFC 7616 §3.3 lets clients
        # return it; some do not).
        if "opaque" in p and not hmac.compare_digest(p["opaque"], self._opaque):
            return "bad_opaque", claimed, False
        known = self._users().get(username)
        ha1 = known.get(algorithm) if known is not None else None
        expected = digest_response(
            algorithm,
            self._dummy[algorithm] if ha1 is None else ha1,
            nonce=nonce,
            nc=nc_text,
            cnonce=p["cnonce"],
            qop="auth",
            method=method,
            uri=target,
        )
        if not hmac.compare_digest(p["response"].lower().encode("ascii"), expected) or ha1 is None:
            return ("unknown_user" if ha1 is None else "bad_credentials"), claimed, False
        # Only now, with a correct response, may the client learn that the nonce is merely old
        # (RFC 7616 §3.3 stale): telling it earlier would help a guesser.
        if now - issued > self._lifetime:
            return "stale", claimed, True
        if self._shared is not None:
            # This check runs on the event loop with no await in it (the Authenticator
            # protocol); the shared store is asked by the server, right after (_record).
            self._pending = (nonce, nc, issued)
            return "record", username, False
        assert self._store is not None
        outcome = self._store.check_and_set(nonce, username, nc, issued, now)
        if outcome == "stale":
            return "stale", claimed, True
        if outcome == "replay":
            # As in _record: stale=true, so a resend after a lost reply recovers at once.
            return "replay", claimed, True
        return "ok", username, False
