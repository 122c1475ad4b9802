"""Refused PBX logins: a budget shared by the whole deployment, and a long wait after each.

PortSIP blocks an address after a configurable number of failed logins (Web Login security,
reference/portsip.md §5), and every replica of every app behind the same NAT is the same address
to it. Retrying a refused login on the ordinary backoff (seconds, capped at a minute) would get
the deployment blocked, its good replicas included. So registration

- **waits long after a refusal** (:class:`RefusedLogins`): ``login_backoff`` seconds (10 min by
  default), doubling up to ``login_backoff_cap`` (1 h), and says so in ``/readyz`` and the log;
- **shares a budget of refused logins** (:class:`LoginBudget`, the client's
  :class:`~ivrhooks.pbx.tokens.LoginGate`): at most ``limit`` refused logins to one PBX in any
  ``window`` seconds, counted in the app's store (Redis when ``IVRHOOKS_REDIS_URL`` is set: every
  replica and every app on that PBX; memory: this process). A replica that finds it spent sends
  no login and says when one may be tried again.

The budget is ``limit`` slots, keys ``ivrhooks:pbx-login:<PBX digest>:<n>``. Each login takes a
free slot first (``SET NX`` for ``window`` seconds); a login that works, or fails for another
reason than a refusal (the PBX unreachable, a 503), gives its slot back at once; a refused one
keeps it until it expires. A slot is taken once per window at most, so no window of that length
holds more than ``limit`` refused logins, however many replicas race for them.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from ivrhooks.errors import InvalidArgumentError, PBXLoginBudgetError, PBXLoginRefusedError
from ivrhooks.pbx.tokens import TokenManager
from ivrhooks.store import FallbackStore, Store

__all__ = [
    "LOGIN_BACKOFF",
    "LOGIN_BACKOFF_CAP",
    "LOGIN_BUDGET",
    "LOGIN_WINDOW",
    "LoginBudget",
    "RefusedLogins",
    "next_attempt",
]

#: Seconds to wait after a first refused login, and the most after several.
LOGIN_BACKOFF = 600.0
LOGIN_BACKOFF_CAP = 3600.0
#: Refused logins the deployment may make to one PBX in any ``LOGIN_WINDOW`` seconds.
LOGIN_BUDGET = 3
LOGIN_WINDOW = 900.0


@dataclass(frozen=True)
class _Slot:
    key: str
    value: bytes


def _minutes(seconds: float) -> str:
    if seconds >= 90:
        return f"{seconds / 60:.0f} min"
    return f"{seconds:.1f} s" if seconds < 10 else f"{seconds:.0f} s"


class LoginBudget:
    """At most ``limit`` refused logins to the PBX at ``pbx_url`` in any ``window`` seconds,
    across everything sharing ``store``. ``clock`` is wall time (replicas share it)."""

    def __init__(
        self,
        store: Store,
        pbx_url: str,
        *,
        limit: int = LOGIN_BUDGET,
        window: float = LOGIN_WINDOW,
        clock: Callable[[], float] = time.time,
    ) -> None:
        # Coordination must not race: never the per-process fallback of a failing Redis.
        self.store = store.primary if isinstance(store, FallbackStore) else store
        self.limit = limit
        self.window = window
        self._clock = clock
        digest = hashlib.sha256(pbx_url.rstrip("/").encode()).hexdigest()[:16]
        self._keys = [f"ivrhooks:pbx-login:{digest}:{n}" for n in range(limit)]

    async def claim(self) -> object:
        """A free slot for one login, or :class:`PBXLoginBudgetError` saying when one frees."""
        now = self._clock()
        value = f"{now:.3f} {secrets.token_hex(8)}".encode()
        for key in self._keys:
            if await self.store.add(key, value, ttl=self.window):
                return _Slot(key, value)
        taken = [await self.store.get(key) for key in self._keys]
        since = [float(v.split()[0]) for v in taken if v]
        retry_in = max(0.0, min(since) + self.window - now) if since else 0.0
        raise PBXLoginBudgetError(
            f"no login tried: {self.limit} logins to this PBX were refused in the last "
            f"{_minutes(self.window)} (by this or another replica sharing the store), and failed "
            "logins make the PBX block this address; check the username, password and domain",
            retry_in=retry_in,
        )

    async def settle(self, claim: object, *, refused: bool) -> None:
        """A refused login keeps its slot for the window; any other gives it back."""
        if not refused and isinstance(claim, _Slot):
            await self.store.swap(claim.key, claim.value, None, ttl=self.window)


class RefusedLogins:
    """This replica's refused logins in a row, and how long to wait after the latest:
    ``base`` seconds doubling up to ``cap``, never before the shared budget frees a slot."""

    def __init__(self, *, base: float = LOGIN_BACKOFF, cap: float = LOGIN_BACKOFF_CAP) -> None:
        if not 0 < base <= cap:
            raise InvalidArgumentError("login backoff: need 0 < login_backoff <= login_backoff_cap")
        self.base = base
        self.cap = cap
        self.count = 0

    def wait_after(self, exc: BaseException, tokens: TokenManager) -> float | None:
        """The wait before the next pass when the one that raised ``exc`` failed on a refused
        login (raised as such, or inside another error, a write's, as ``tokens`` remember it);
        None when it failed for another reason."""
        login = isinstance(exc, (PBXLoginRefusedError, PBXLoginBudgetError))
        if not login and tokens.refusal is None:
            return None
        self.count += 1
        wait = min(self.cap, self.base * 2.0 ** min(self.count - 1, 30))
        if isinstance(exc, PBXLoginBudgetError):
            wait = max(wait, exc.retry_in)
        return wait

    def reset(self) -> None:
        """A pass succeeded: the next refusal is a first one again."""
        self.count = 0


def next_attempt(delay: float, now: Callable[[], float] = time.time) -> str:
    """``next attempt in 10 min (at 14:05:09 UTC)``: for /readyz and the log."""
    at = datetime.fromtimestamp(now() + delay, UTC).strftime("%H:%M:%S UTC")
    return f"next attempt in {_minutes(delay)} (at {at})"
