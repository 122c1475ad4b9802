"""How fast the fake PBX is asked: the arrival time of every REST request, the busiest
one-second window, and ``GET /_fake/stats`` to read them (with the counters) from another
process, as ``bench/reconcile.py`` does against ``ivrhooks fake-pbx``.

PortSIP counts REST requests per minute and per source (REST "About"); the client promises at
most its rate budget in any one-second window (``ivrhooks.pbx.ratelimit``). This is the other
side of that promise, measured where the PBX would measure it: on arrival.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["STATS_PATH", "RecordRequests", "RequestRate"]

STATS_PATH = "/_fake/stats"


class RequestRate:
    """Arrival times (``clock``) of the requests under ``/api``, token calls included."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.times: list[float] = []

    def record(self) -> None:
        self.times.append(self._clock())

    def reset(self) -> None:
        self.times = []

    def peak(self, window: float = 1.0) -> int:
        """The most requests that arrived within any ``window`` seconds (half-open)."""
        times, best, first = self.times, 0, 0
        for last, arrived in enumerate(times):
            while arrived - times[first] >= window:
                first += 1
            best = max(best, last - first + 1)
        return best


class RecordRequests:
    """ASGI middleware: records each HTTP request under ``/api`` as it arrives."""

    def __init__(self, app: ASGIApp, rate: RequestRate) -> None:
        self.app = app
        self.rate = rate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/api/"):
            self.rate.record()
        await self.app(scope, receive, send)
