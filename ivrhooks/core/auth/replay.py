"""Digest replay protection: a sliding window of seen ``nc`` values per (nonce, username).

RFC 7616 §3.4 lets a client reuse a nonce with an increasing nonce-count; a server that does not
remember which counts it has seen accepts an exact replay. The window (like IPsec's anti-replay
window, RFC 4303 §3.4.3) accepts each ``nc`` at most once and tolerates out-of-order arrival of up
to ``WINDOW - 1`` counts behind the highest one seen.

Entries are created on the first *successful* use only, so unauthenticated traffic cannot grow
the table. The table has a hard cap; evicting an entry whose nonce has not expired raises a
watermark, and a nonce issued at or before the watermark without an entry is reported "stale"
(the client retries with a fresh nonce) instead of being accepted again.

The store is per process. Several replicas need a shared store implementing :class:`ReplayStore`.
"""

from __future__ import annotations

import threading
from typing import ClassVar, Literal, Protocol, runtime_checkable

from ivrhooks.errors import InvalidArgumentError

__all__ = ["WINDOW", "MemoryReplayStore", "ReplayOutcome", "ReplayStore", "SharedReplayStore"]

WINDOW = 128
ReplayOutcome = Literal["ok", "replay", "stale"]


class ReplayStore(Protocol):
    def check_and_set(
        self, nonce: str, username: str, nc: int, issued_at: float, now: float
    ) -> ReplayOutcome:
        """Record ``nc`` for (nonce, username) if unseen; atomic, no ``await`` in between."""
        ...


@runtime_checkable
class SharedReplayStore(Protocol):
    """A replay window every replica shares (``ivrhooks.store.replay.StoreReplay``): checking
    needs an ``await``, so the server finishes that check after the verifier's (``Deferred``)."""

    shared: ClassVar[bool]

    async def check_and_set(
        self, nonce: str, username: str, nc: int, issued_at: float, now: float
    ) -> ReplayOutcome:
        """Record ``nc`` for (nonce, username) if unseen, atomically in the shared store."""
        ...


class MemoryReplayStore:
    """In-process store with a hard size cap and an eviction watermark.

    The cap bounds memory (about 0.4 KiB an entry: ~4 MiB at the default). It does not bound
    traffic: a PBX spends each nonce right after its challenge, so its nonces are newer than the
    watermark and keep working at any rate; only an old nonce whose entry was evicted turns
    stale (the client retries with a fresh one), never replayable.
    """

    def __init__(self, *, max_entries: int = 10_000, lifetime: float = 300.0) -> None:
        if max_entries < 1:
            raise InvalidArgumentError("max_entries: must be at least 1")
        self.max_entries = max_entries
        self.lifetime = lifetime
        self.watermark = float("-inf")
        # (nonce, username) -> [issued_at, highest nc, bitmap]; bit i = (highest - i) seen.
        self._entries: dict[tuple[str, str], list[float | int]] = {}
        self._lock = threading.Lock()  # the ASGI path is single-threaded; sync callers may not be

    def __len__(self) -> int:
        return len(self._entries)

    def check_and_set(
        self, nonce: str, username: str, nc: int, issued_at: float, now: float
    ) -> ReplayOutcome:
        key = (nonce, username)
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                if issued_at <= self.watermark:
                    return "stale"
                self._make_room(now)
                self._entries[key] = [issued_at, nc, 1]
                return "ok"
            _, high, bits = entry
            assert isinstance(high, int) and isinstance(bits, int)
            if nc > high:
                shift = nc - high
                entry[1] = nc
                entry[2] = ((bits << shift) | 1) & ((1 << WINDOW) - 1) if shift < WINDOW else 1
                return "ok"
            offset = high - nc
            if offset >= WINDOW or bits >> offset & 1:
                return "replay"
            entry[2] = bits | (1 << offset)
            return "ok"

    def _make_room(self, now: float) -> None:
        entries = self._entries
        # Oldest first (insertion order): drop expired ones for free, then evict if still full.
        while entries:
            key = next(iter(entries))
            issued = entries[key][0]
            if issued + self.lifetime < now:
                del entries[key]
            elif len(entries) >= self.max_entries:
                del entries[key]
                self.watermark = max(self.watermark, float(issued))
            else:
                break
