"""When and how long to wait before retrying a PBX REST request.

Pure: no I/O, randomness injected. PortSIP documents a rate limit but not its status
(REST "About"), so 429 and 503 are both treated as "slow down", with 502/504 from proxies.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Literal

__all__ = ["RETRY_STATUSES", "Retry", "RetryPolicy", "parse_retry_after"]

RETRY_STATUSES = frozenset({429, 502, 503, 504})

#: "all": retry connection errors and 429/502/503/504 (GET, update, destroy: repeating them is
#: harmless). "connect": retry only when the request provably never reached the PBX (create).
Retry = Literal["all", "connect"]


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
    """Exponential backoff with full jitter, bounded in attempts and in total time.

    ``max_attempts`` counts the first try; ``max_time`` bounds the sum of the waits, and a
    ``Retry-After`` longer than ``max_retry_after`` is cut to it (a PBX asking for minutes
    should not freeze a reconcile run).
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
        return float(self.rand() * min(self.cap, self.base * 2.0 ** (attempt - 1)))

    def allows(self, attempt: int, waited: float, delay: float) -> bool:
        """Whether another try fits after ``attempt`` tries and ``waited`` seconds of waits."""
        return attempt < self.max_attempts and waited + delay <= self.max_time
