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
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

if TYPE_CHECKING:
    from ivrhooks.fakepbx.state import PBXState

__all__ = ["STATS_PATH", "RecordRequests", "RequestRate", "stats_routes"]

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


def stats_routes(pbx: PBXState) -> list[Route]:
    """``GET /_fake/stats`` (counters and the busiest second) and ``POST`` to reset them."""

    async def stats(request: Request) -> JSONResponse:
        if request.method == "POST":
            pbx.reset_counters()
            pbx.requests.reset()
        c = pbx.counters
        return JSONResponse(
            {
                "calls": c.calls,
                "reads": c.calls - c.writes,
                "creates": c.creates,
                "updates": c.updates,
                "destroys": c.destroys,
                "token_calls": pbx.tokens.logins + pbx.tokens.refreshes,  # since start
                "requests": len(pbx.requests.times),
                "peak_per_second": pbx.requests.peak(),
            }
        )

    return [Route(STATS_PATH, stats, methods=["GET", "POST"])]
