"""``RateBudget``: at most ``rate`` PBX REST requests in any one-second window.

PortSIP limits its REST API to 5,000-10,000 requests a minute depending on the version
(REST "About"), shares that budget with every other integration on the PBX, and blocks sources
that abuse it. A reconcile of a few hundred receptionists would otherwise send several hundred
requests a second. So every request (token calls included) takes a slot first:
:meth:`RateBudget.acquire` waits until fewer than ``rate`` slots were granted in the window
before it. Up to ``rate`` requests go at once, so a small job never waits.

The window is a little longer than a second (``WINDOW``, 1.1 s): the PBX counts requests when
they arrive, and a request can leave a busy event loop, or be read by a busy PBX, later than its
slot; measured at the fake PBX on a loaded machine, 50 ms of slack was not always enough.

A 429 (:meth:`RateBudget.slow_down`) halves the rate, down to one a second, and pauses new
requests for the ``Retry-After`` the PBX asked for; the rate then climbs back to ``rate``
over a minute (the PBX's own accounting period), unless another 429 comes first.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable

# The setting's declaration (PBXConfig.rate, IVRHOOKS_PBX_RATE) is the one place they are written.
from ivrhooks.conf.outbound import DEFAULT_PBX_RATE as DEFAULT_RATE
from ivrhooks.conf.outbound import MAX_PBX_RATE as MAX_RATE

__all__ = ["DEFAULT_RATE", "MAX_RATE", "WINDOW", "RateBudget"]

#: Seconds a window lasts: one second, plus slack for the time between a slot and the arrival.
WINDOW = 1.1
#: Seconds for a lowered rate to climb back to the configured one.
RECOVERY = 60.0


class RateBudget:
    """Grants request slots: never more than ``rate`` in any ``window`` (default ``WINDOW``).

    Pure but for the injected ``clock`` and ``sleep``: tests drive it with a fake clock.
    """

    def __init__(
        self,
        rate: int,
        *,
        window: float = WINDOW,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        if isinstance(rate, bool) or not isinstance(rate, int) or not 1 <= rate <= MAX_RATE:
            raise ValueError(f"rate: must be a whole number from 1 to {MAX_RATE}, not {rate!r}")
        if not window >= 1.0:
            raise ValueError(f"window: must be at least one second, not {window!r}")
        self.rate = rate
        self.window = window
        self._clock = clock
        self._sleep = sleep
        self._current = float(rate)  # lowered by a 429, climbing back
        self._updated = clock()
        self._paused_until = 0.0
        # Grant times, oldest first, never decreasing; only the last ``rate`` matter.
        self._granted: deque[float] = deque(maxlen=rate)
        #: 429s seen (for tests and logs).
        self.slowdowns = 0

    @property
    def current(self) -> int:
        """Requests allowed per window right now (``rate``, or less after a 429)."""
        now = self._clock()
        self._current = min(
            float(self.rate), self._current + self.rate * (now - self._updated) / RECOVERY
        )
        self._updated = now
        return max(1, math.floor(self._current))

    def reserve(self) -> float:
        """Take the next slot; returns the clock time it starts (now, or later)."""
        now = self._clock()
        allowed = self.current
        at = max(now, self._paused_until)
        granted = self._granted
        if granted:
            # Never before the last grant: grants stay ordered, so "the allowed-th most recent
            # grant is a window old" bounds every window, whatever the rate was at the time.
            at = max(at, granted[-1])
            if len(granted) >= allowed:
                at = max(at, granted[-allowed] + self.window)
        granted.append(at)
        return at

    async def acquire(self) -> None:
        """Wait for a slot. A cancelled wait keeps its slot: the budget errs on the safe side."""
        at = self.reserve()
        delay = at - self._clock()
        if delay > 0:
            await self._sleep(delay)

    def slow_down(self, retry_after: float | None = None) -> None:
        """The PBX answered 429: halve the rate and pause for ``retry_after`` seconds."""
        self.slowdowns += 1
        now = self._clock()
        self._current = max(1.0, self.current / 2)
        self._updated = now
        if retry_after is not None and retry_after > 0:
            self._paused_until = max(self._paused_until, now + retry_after)
