"""Static passwords kept as hashes: an htpasswd file (slow hashes) or htdigest HA1s (fast).

Both do the same work whether or not the user exists, so the time taken does not say which
usernames are in the file: an unknown user is verified against a real entry's hash (htpasswd:
the costliest in the file; htdigest: a random HA1). A slow hash (bcrypt ~250 ms at cost 12)
cannot be paid per request inside the PBX's 2-second budget, so successes are remembered, keyed
by an HMAC of the presented credentials under a per-process random key (no password is kept);
:meth:`HashedPasswords.verify` is what the server runs off the event loop.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import threading
from pathlib import Path

from ivrhooks.core.auth.digest import digest_ha1
from ivrhooks.core.auth.files import read_htpasswd

__all__ = ["DigestPasswords", "HashedPasswords"]

# Slowest first, for picking the decoy hash unknown users are checked against.
_SCHEME_COST = {"bcrypt": 3, "sha512_crypt": 2, "sha256_crypt": 2, "apr_md5_crypt": 1}


class HashedPasswords:
    """An htpasswd file checked through passlib, with a bounded memory of successful checks."""

    slow = True

    def __init__(self, path: Path, *, cache_size: int = 1024) -> None:
        self.path = Path(path)
        self._file = read_htpasswd(self.path)
        self._context = self._file.context
        self._decoy = max(
            (self._file.get_hash(user) for user in self._file.users()), key=self._cost
        )
        self._cache_key = os.urandom(32)
        self._cache: dict[bytes, None] = {}
        self._cache_size = cache_size
        self._lock = threading.Lock()  # verify() runs in worker threads

    def _cost(self, hashed: str) -> tuple[int, int]:
        scheme = self._context.identify(hashed)
        try:
            rounds = int(getattr(self._context.handler(scheme).from_string(hashed), "rounds", 0))
        except (ValueError, TypeError):
            rounds = 0
        return _SCHEME_COST.get(scheme, 0), rounds

    def _fingerprint(self, username: str, password: str) -> bytes:
        message = f"{username}\x00{password}".encode()
        return hmac.new(self._cache_key, message, hashlib.sha256).digest()

    def remembered(self, username: str, password: str) -> bool:
        """These exact credentials succeeded before (an HMAC and a dict lookup: no hash)."""
        return self._fingerprint(username, password) in self._cache

    def verify(self, username: str, password: str) -> bool | None:
        """True / False, or None for a user not in the file; blocking (a full slow hash)."""
        hashed = self._file.get_hash(username)
        try:
            verified = bool(self._context.verify(password, hashed or self._decoy))
        except ValueError:  # a malformed hash in the file fails closed
            return False
        if hashed is None:
            return None
        if verified:
            with self._lock:
                if len(self._cache) >= self._cache_size:
                    del self._cache[next(iter(self._cache))]  # oldest first
                self._cache[self._fingerprint(username, password)] = None
        return verified

    def check(self, username: str, password: str) -> bool | None:
        """:meth:`remembered`, else :meth:`verify` (blocking)."""
        return True if self.remembered(username, password) else self.verify(username, password)


class DigestPasswords:
    """htdigest HA1s answering Basic: one MD5 per check, cheap enough for the event loop."""

    slow = False

    def __init__(self, ha1s: dict[str, bytes], realm: str) -> None:
        self._ha1s = ha1s
        self._realm = realm
        self._decoy = hashlib.md5(os.urandom(32)).hexdigest().encode()  # noqa: S324

    def remembered(self, username: str, password: str) -> bool:
        return False

    def verify(self, username: str, password: str) -> bool | None:
        ha1 = self._ha1s.get(username)
        computed = digest_ha1("MD5", username, self._realm, password)
        verified = hmac.compare_digest(computed, self._decoy if ha1 is None else ha1)
        return None if ha1 is None else verified
