"""What ``await req.presence(ext)`` costs inside a route handler, in memory and in Redis: part of
``bench/events_http.py``'s run.

An app served on loopback in this process (uvicorn, its store as configured) is told by an
extension event that 2001 is available; a route handler then times its own ``req.presence("2001")``
call with ``perf_counter`` on every request. Each answer is checked (the handler forwards to
2001 only when the read said "available"); for Redis, no store operation may have fallen back
to memory and the presence key must be in redis-server itself. The bench stops otherwise.
"""

from __future__ import annotations

import base64
import statistics
import time
from typing import Any

import httpx

from bench.apps import SECRET
from ivrhooks import ActionRequest, IVRHooks, StoreConfig, call
from ivrhooks.core.auth import derive_credentials
from ivrhooks.testing import serve

__all__ = ["basic", "presence_row"]


def basic(route: str) -> str:
    """The Basic ``Authorization`` header the PBX sends to ``route`` (an event URL's too)."""
    creds = derive_credentials(SECRET, route)
    return "Basic " + base64.b64encode(f"{creds.username}:{creds.password}".encode()).decode()


async def presence_row(name: str, redis_url: str | None, reads: int) -> tuple[str, float, float]:
    """Microseconds of one ``req.presence()`` inside a handler: p50 and p99 (the first tenth
    as warm-up)."""
    samples: list[float] = []
    app = IVRHooks(
        receptionists=["8000"],
        secret=SECRET,
        env={"IVRHOOKS_REGISTER": "false"},
        store=StoreConfig(redis_url=redis_url),
    )

    @app.dtmf("1")
    async def sales(req: ActionRequest) -> object:
        began = time.perf_counter()
        said = await req.presence("2001")
        samples.append(time.perf_counter() - began)
        return call("2001" if said == "available" else "2999")

    server = app.build()
    status = {
        "event_type": "extension_status",
        "status": [{"extension": "sip:2001@pbx", "online": True, "presence": "ONLINE"}],
        "time": str(int(time.time())),
    }
    async with serve(server) as url, httpx.AsyncClient(base_url=url, timeout=10) as http:
        said = await http.post(
            "/events/extension", json=status, headers={"Authorization": basic("events-extension")}
        )
        if said.status_code != 200:
            raise SystemExit(f"{name}: the extension event was answered {said.status_code}")
        auth = {"Authorization": basic("sales")}
        for n in range(reads):
            fields = {"from": "101", "to": "8000", "input": "1", "session_id": str(n)}
            answer = await http.post("/hooks/sales", json=fields, headers=auth)
            if answer.status_code != 200 or answer.json().get("destination") != "2001":
                raise SystemExit(f"{name}: read {n} did not say available: {answer.text}")
        if redis_url is not None:
            await _in_redis(name, server, redis_url)
    cuts = statistics.quantiles(samples[reads // 10 :], n=100)
    return name, cuts[49] * 1e6, cuts[98] * 1e6


async def _in_redis(name: str, server: Any, url: str) -> None:
    fallbacks = sum(
        s.value
        for family in server.runtime.metrics.registry.collect()
        for s in family.samples
        if s.name == "ivrhooks_store_fallbacks_total"
    )
    if server.runtime.store.kind != "redis" or fallbacks:
        raise SystemExit(f"{name}: {fallbacks:.0f} store operations fell back to memory")
    import redis.asyncio

    client = redis.asyncio.Redis.from_url(url)
    try:
        key = f"ivrhooks:{server.runtime.manifest.app_id}:presence:2001"
        if await client.get(key) is None:
            raise SystemExit(f"{name}: no presence for 2001 in redis-server")
    finally:
        await client.aclose()
