"""When and how long to wait before trying again: the one backoff and the client's retry policy.

Pure: no I/O, randomness injected. PortSIP documents a rate limit but not its status
(REST "About"), so 429 and 503 are both treated as "slow down", with 502/504 from proxies.
:func:`backoff` (defined in :mod:`ivrhooks.core.backoff`, re-exported here) is shared by the
client's retries (:class:`RetryPolicy`), the registration service's retry delay
(``Registration.backoff``) and the event inbox's retries; the layer that applies the policy to
a call is :mod:`ivrhooks.pbx.attempts`.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Literal

import httpx

from ivrhooks.core.backoff import Jitter, backoff

__all__ = [
    "RETRY_STATUSES",
    "Jitter",
    "Retry",
    "RetryPolicy",
    "backoff",
    "never_sent",
    "parse_retry_after",
]

RETRY_STATUSES = frozenset({429, 502, 503, 504})

#: "all": retry connection errors and 429/502/503/504 (GET, update, destroy: repeating them is
#: harmless). "connect": retry only when the request provably never reached the PBX (create).
Retry = Literal["all", "connect"]

# These never put a byte on the wire, so the PBX cannot have acted on the request.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def never_sent(error: httpx.TransportError) -> bool:
    """Whether ``error`` proves the request never reached the PBX (so it cannot have acted)."""
    return isinstance(error, _NOT_SENT)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (RFC 9110 §10.2.3), or None if absent/bad."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


@dataclass(frozen=True)
class RetryPolicy:
    """What the client retries, and how long it waits: bounded in attempts and in total time.

    ``max_attempts`` counts the first try; ``max_time`` bounds the sum of the waits; the waits
    are :func:`backoff` ("full" jitter) from ``base`` up to ``cap``, or the PBX's
    ``Retry-After``, cut to ``max_retry_after`` (a PBX asking for minutes should not freeze a
    reconcile run). ``PBXClient(retry=RetryPolicy(max_attempts=2))`` to tune it.
    """

    max_attempts: int = 4
    max_time: float = 30.0
    base: float = 0.2
    cap: float = 5.0
    max_retry_after: float = 30.0
    rand: Callable[[], float] = field(default=random.random, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts: must be at least 1")
        if self.max_time < 0 or self.base < 0 or self.cap < 0 or self.max_retry_after < 0:
            raise ValueError("retry times: must not be negative")

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """The wait before try ``attempt + 1`` (``attempt`` is 1 after the first failure)."""
        if retry_after is not None:
            return min(retry_after, self.max_retry_after)
        return backoff(attempt, base=self.base, cap=self.cap, rand=self.rand)

    def allows(self, attempt: int, waited: float, delay: float) -> bool:
        """Whether another try fits after ``attempt`` tries and ``waited`` seconds of waits."""
        return attempt < self.max_attempts and waited + delay <= self.max_time

    def retry_after(self, response: httpx.Response) -> float | None:
        """The response's ``Retry-After`` in seconds, cut to ``max_retry_after`` (None: absent)."""
        after = parse_retry_after(response.headers.get("Retry-After"))
        return None if after is None else min(after, self.max_retry_after)

    def next_delay(
        self,
        outcome: httpx.Response | httpx.TransportError,
        *,
        attempt: int,
        waited: float,
        retry: Retry,
    ) -> float | None:
        """The wait before trying again after try ``attempt`` ended in ``outcome``, or None.

        None means "give up": the outcome is not one to retry (any response but
        429/502/503/504; for a create, any response at all and any connection error after which
        the PBX may have acted), or another try would pass ``max_attempts`` or ``max_time``.
        """
        if isinstance(outcome, httpx.TransportError):
            if retry == "connect" and not never_sent(outcome):
                return None
            delay = self.delay(attempt)
        else:
            if retry != "all" or outcome.status_code not in RETRY_STATUSES:
                return None
            delay = self.delay(attempt, self.retry_after(outcome))
        return delay if self.allows(attempt, waited, delay) else None
