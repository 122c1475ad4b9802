"""Failure throttling that slows guessing down without ever locking the PBX out.

The rules, each answering a finding of the hostile review (docs/security.md):

- **Keyed by source and claimed identity.** Failures are counted per (client address, route,
  username the request claimed); IPv6 addresses count per /64. Wrong ``Authorization`` headers
  from the PBX's own address (a shared NAT, a tenant of the same hosted PBX) throttle only the
  usernames they claim.
- **Unguessable credentials always pass.** Throttling exists to stop guessing. Derived
  credentials (256-bit HMACs of the secret) and tokens cannot be guessed at any rate, so a
  correct one is answered however throttled its key is; only the failures get 429.
- **Guessable ones pass when known-good.** For static passwords, a throttled key answers 429
  *without checking* (a correct guess must look like a wrong one), except for a (source, route,
  username) that authenticated in the last ``known_good_for`` seconds: the credentials the PBX
  holds keep working however many failures a neighbour makes with its username.
- **CPU bound for slow hashes.** A slow hash (bcrypt) runs only for keys that are not throttled,
  and for at most ``slow_failures`` failed slow checks a window per source, across all its
  usernames: rotating usernames does not buy unlimited bcrypt. (Concurrency is bounded apart, by
  the server's hash runner.)
- **A challenge is never refused.** A request without credentials is the first step of every
  Digest call; it is neither counted nor throttled.

What it cannot do: after a restart, before the PBX's first success, a neighbour who knows the
username of a *static* password can keep that key throttled; and one who knows a known-good
username is answered 200 for the right password on the fast path, so such passwords must be
long and random (the allow-list is the control for a shared address). Tables are bounded; the
oldest entries are forgotten first.
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from ivrhooks.core.auth.verdict import Verdict
from ivrhooks.errors import ConfigurationError

__all__ = ["Key", "Throttle"]

Key = tuple[str, str, str | None]  # (source, route id, claimed username)
_SOURCE_CACHE = 1024


def source_of(ip: str) -> str:
    """The unit counted as one client: the address, or its /64 for IPv6."""
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if isinstance(addr, ipaddress.IPv6Address):
        if addr.ipv4_mapped is not None:
            return str(addr.ipv4_mapped)
        # One IPv6 host usually owns a whole /64: count it as one client.
        return str(ipaddress.IPv6Network((addr, 64), strict=False))
    return str(addr)


class _Window:
    """Times of the most recent failures per key, in a bounded table (least recent first)."""

    def __init__(self, limit: int, window: float, max_tracked: int) -> None:
        self.limit = limit
        self.window = window
        self.max_tracked = max_tracked
        self.times: dict[object, deque[float]] = {}

    def wait(self, key: object, now: float) -> float:
        """Seconds until ``key`` may fail again; 0 when it is not throttled."""
        times = self.times.get(key)
        if times is None or len(times) < self.limit:
            return 0.0
        return max(0.0, times[0] + self.window - now)

    def add(self, key: object, now: float) -> None:
        times = self.times.pop(key, None)
        if times is None:
            if len(self.times) >= self.max_tracked:
                del self.times[next(iter(self.times))]
            times = deque(maxlen=self.limit)
        times.append(now)
        self.times[key] = times  # re-insert: the dict is ordered least recently failed first


class Throttle:
    """Counts failures and successes; says when a request is answered 429 instead."""

    def __init__(
        self,
        *,
        max_failures: int = 10,
        window: float = 60.0,
        slow_failures: int | None = None,
        known_good_for: float = 86_400.0,
        max_tracked: int = 10_000,
        max_known: int = 50_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        slow = 3 * max_failures if slow_failures is None else slow_failures
        if min(max_failures, slow, max_tracked, max_known) < 1 or window <= 0:
            raise ConfigurationError(
                "max_failures, slow_failures, window, max_tracked and max_known must be positive"
            )
        self.max_failures = max_failures
        self.window = window
        self.known_good_for = known_good_for
        self.max_known = max_known
        self._clock = clock
        self._keys = _Window(max_failures, window, max_tracked)
        self._slow = _Window(slow, window, max_tracked)
        self._known: dict[Key, float] = {}  # key -> last success
        self._sources: dict[str, str] = {}
        self._shared: Any = None  # SharedCounts, when replicas share a store

    def share(self, counts: Any) -> None:
        """Share counts with the other replicas (``ivrhooks.auth.shared_throttle``)."""
        self._shared = counts

    def throttle_key(self, key: Key) -> None:
        """Throttle ``key`` now, as if its failures had been counted here (another replica's)."""
        now = self._clock()
        for _ in range(self.max_failures):
            self._keys.add(key, now)

    def mark_known_good(self, key: Key) -> None:
        """``key`` authenticated on another replica: known-good here too."""
        known = self._known
        if key not in known and len(known) >= self.max_known:
            del known[next(iter(known))]
        known[key] = self._clock()

    @property
    def idle(self) -> bool:
        """No failure recorded anywhere: the normal state, in which nothing is throttled."""
        return not self._keys.times and not self._slow.times

    def _source(self, ip: str) -> str:
        source = self._sources.get(ip)
        if source is None:
            if len(self._sources) >= _SOURCE_CACHE:
                self._sources.clear()
            source = self._sources[ip] = source_of(ip)
        return source

    def _verdict(self, wait: float) -> Verdict:
        retry = str(max(1, math.ceil(wait))).encode()
        return Verdict(ok=False, status=429, reason="throttled", headers=((b"retry-after", retry),))

    def known_good(self, ip: str, route: str, username: str | None) -> bool:
        """Whether this source authenticated as ``username`` on ``route`` recently."""
        last = self._known.get((self._source(ip), route, username))
        return last is not None and self._clock() - last <= self.known_good_for

    def succeeded(self, ip: str, route: str, username: str | None) -> None:
        """Record a success: the key is known-good from now on (for ``known_good_for``)."""
        key = (self._source(ip), route, username)
        known = self._known
        if key not in known and len(known) >= self.max_known:
            del known[next(iter(known))]  # the oldest first: only real successes get in
        known[key] = self._clock()
        if self._shared is not None:
            self._shared.succeeded(self, key)

    def accepts_success(self, ip: str, route: str, username: str | None) -> Verdict | None:
        """For a request whose credentials were correct: 429 when its key is throttled and not
        known-good (a guess that happens to be right is answered like a wrong one), else None."""
        if self.idle:
            return None
        wait = self._keys.wait((self._source(ip), route, username), self._clock())
        if wait and not self.known_good(ip, route, username):
            return self._verdict(wait)
        return None

    def refuses_failure(
        self, ip: str, route: str, claimed: str | None, *, slow: bool = False
    ) -> Verdict | None:
        """For a request that failed (or needs a ``slow`` hash to tell): 429 when its key is
        throttled, or a slow check when its source spent its slow budget; else None."""
        if self.idle:
            return None
        now = self._clock()
        source = self._source(ip)
        wait = self._keys.wait((source, route, claimed), now)
        if not wait and slow:
            wait = self._slow.wait(source, now)
        return self._verdict(wait) if wait else None

    def failed(self, ip: str, route: str, claimed: str | None, *, slow: bool = False) -> None:
        """Count one failed authentication (``slow``: it cost a slow hash)."""
        now = self._clock()
        source = self._source(ip)
        key = (source, route, claimed)
        self._keys.add(key, now)
        if slow:
            self._slow.add(source, now)
        if self._shared is not None:
            self._shared.failed(self, key)
