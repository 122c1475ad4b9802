"""Stateless Digest nonces (RFC 7616 §3.3, §5.4): any process holding the key can check them.

::

    nonce = base64url( ts[8] ‖ rnd[12] ‖ HMAC-SHA256(key, ts ‖ rnd ‖ context)[:16] )

``context`` binds the realm, the route (action URL) and the algorithm, so a nonce issued for one
action URL or algorithm is worthless on another. Verification is strict: exact length, exact
alphabet, constant-time MAC comparison, and timestamps from the future refused.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import struct

__all__ = ["NONCE_LENGTH", "NonceCodec"]

_RANDOM = 12
_MAC = 16
_RAW = 8 + _RANDOM + _MAC
NONCE_LENGTH = 48  # base64url of 36 bytes, no padding needed
_ALPHABET = re.compile(rf"[A-Za-z0-9_-]{{{NONCE_LENGTH}}}")
# Allow a little clock disagreement between replicas before calling a nonce "from the future".
FUTURE_SKEW = 5.0


class NonceCodec:
    """Makes and checks nonces for one (realm, route, algorithm) under one or more keys."""

    __slots__ = ("_context",)

    def __init__(self, realm: str, route_id: str, algorithm: str) -> None:
        self._context = b"\x00".join(s.encode("utf-8") for s in (realm, route_id, algorithm))

    def _mac(self, key: bytes, head: bytes) -> bytes:
        return hmac.new(key, head + b"\x00" + self._context, hashlib.sha256).digest()[:_MAC]

    def make(self, key: bytes, now: float) -> str:
        head = struct.pack(">Q", int(now * 1000)) + os.urandom(_RANDOM)
        return base64.urlsafe_b64encode(head + self._mac(key, head)).decode("ascii")

    def issued_at(self, nonce: str, keys: tuple[bytes, ...], now: float) -> float | None:
        """The issue time of a genuine nonce (seconds), or ``None`` if forged or malformed."""
        if not _ALPHABET.fullmatch(nonce):
            return None
        try:
            raw = base64.urlsafe_b64decode(nonce)
        except (binascii.Error, ValueError):
            return None
        if len(raw) != _RAW:
            return None
        head, mac = raw[: 8 + _RANDOM], raw[8 + _RANDOM :]
        valid = False
        for key in keys:
            valid |= hmac.compare_digest(mac, self._mac(key, head))
        if not valid:
            return None
        issued: float = struct.unpack(">Q", head[:8])[0] / 1000.0
        if issued > now + FUTURE_SKEW:
            return None
        return issued
