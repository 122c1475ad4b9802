"""``GET /_fake/stats``: what the fake PBX served, for benchmarks and tests (not PortSIP's)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from ivrhooks.fakepbx.rates import STATS_PATH
from ivrhooks.fakepbx.state import PBXState

__all__ = ["stats_routes"]


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
