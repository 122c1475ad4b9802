"""The apps the benchmark serves, each answering the same action-URL request with the same
decision, so the only difference between rows is what the framework does per request.

Every app serves ``GET|POST /hooks/r<k>`` and answers
``{"status_code":200,"action":"call","destination":"2001"}``. The ivrhooks and FastAPI apps are
configured by environment variables (read here, in the bench, never by the library):

``BENCH_ROUTES``  number of routes (ivrhooks), default 1000
``BENCH_SCHEME``  basic | digest | bearer (ivrhooks), default basic
``BENCH_SECRET``  the secret credentials are derived from
"""

from __future__ import annotations

import os

__all__ = ["DECISION", "RECEPTIONIST", "SECRET", "query_for", "route_count", "target_route"]

DECISION = b'{"status_code":200,"action":"call","destination":"2001"}'
RECEPTIONIST = "8000"
SECRET = os.environ.get("BENCH_SECRET", "bench-secret-not-for-production-0123456789")


def route_count() -> int:
    return int(os.environ.get("BENCH_ROUTES", "1000"))


def target_route(routes: int) -> int:
    """The route the load hits: one in the middle of the table, not the first one added."""
    return routes // 2


def mask_of(index: int) -> str:
    """Route ``index`` answers one 5-digit DTMF input; no two routes overlap."""
    return str(10000 + index)


def query_for(index: int) -> str:
    """The query string the PBX sends for a DTMF event on route ``index`` (portsip.md §1)."""
    return (
        f"from=5551234&to={RECEPTIONIST}&input={mask_of(index)}&from_name=Bench"
        f"&account_name=reception&session_id=bench-session-0001"
    )
