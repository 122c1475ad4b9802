"""The cost of a call's session per request: read and write, in memory and in Redis.

In process (no sockets between the PBX and the app), the same app answers the same POST
request through its whole served path: one route that never asks for the session, one that
reads it and writes a value back (one store read and one compare-and-set per request). Run:

    python bench/sessions.py [--requests N]

With ``redis-server`` installed, a Redis row is measured too (a server of its own on a free
loopback port; the Redis round trips are the cost).

What is timed is checked, outside the timed span: every request must answer 200 with exactly
the decision its handler returns, and no store operation may have been answered from memory
because Redis failed (a fallback would be timing the memory store under the Redis label).
Afterwards every call's session is read back, straight from redis-server for the Redis row, and
must hold the value written and one counted attempt per request of the call: a write lost or
refused would show there. The bench stops with the reason otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import secrets
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.redis_proc import redis_server
from ivrhooks import IVRHooks, StoreConfig, call
from ivrhooks.core.auth import derive_credentials
from ivrhooks.core.request import ActionRequest

SECRET = "bench-sessions-secret-0123456789"
CALLS = 50  # calls in flight, each asked again and again
EXPECTED = {"status_code": 200, "action": "call", "destination": "2001"}


def build(redis_url: str | None) -> Any:
    app = IVRHooks(
        receptionists=["8000"],
        secret=SECRET,
        env={"IVRHOOKS_REGISTER": "false"},
        store=StoreConfig(redis_url=redis_url),
    )

    @app.dtmf("1")
    async def plain(req: ActionRequest) -> object:
        return call("2001")

    @app.dtmf("2")
    async def remembers(req: ActionRequest) -> object:
        session = await req.session()
        session["last"] = req.digits
        return call("2001")

    return app.build()


def _answer(sent: list[Any]) -> tuple[int | None, object]:
    """The status and the decision (parsed JSON, else the raw body) of one ASGI response."""
    status = next((m["status"] for m in sent if m["type"] == "http.response.start"), None)
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    try:
        return status, json.loads(body)
    except ValueError:
        return status, body


def _fallbacks(server: Any) -> float:
    """Store operations this server answered from memory because the shared store failed."""
    return float(
        sum(
            sample.value
            for family in server.runtime.metrics.registry.collect()
            for sample in family.samples
            if sample.name == "ivrhooks_store_fallbacks_total"
        )
    )


async def measure(
    server: Any, label: str, route: str, digit: str, requests: int, calls: list[str]
) -> float:
    """Median microseconds of one request (the first tenth as warm-up), each checked."""
    creds = derive_credentials(SECRET, route)
    auth = b"Basic " + base64.b64encode(f"{creds.username}:{creds.password}".encode())
    sent: list[Any] = []

    async def send(message: Any) -> None:
        sent.append(message)

    store = server.runtime.store
    samples = []
    for n in range(requests):
        body = b'{"from":"101","to":"8000","input":"%s","session_id":"%s"}' % (
            digit.encode(),
            calls[n % len(calls)].encode(),
        )

        async def receive(body: bytes = body) -> Any:
            return {"type": "http.request", "body": body, "more_body": False}

        scope = {
            "type": "http",
            "method": "POST",
            "path": f"/hooks/{route}",
            "raw_path": f"/hooks/{route}".encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [(b"authorization", auth), (b"content-length", b"%d" % len(body))],
            "client": ("127.0.0.1", 40000),
            "server": ("127.0.0.1", 8080),
        }
        started = time.perf_counter()
        await server(scope, receive, send)
        samples.append(time.perf_counter() - started)
        status, decision = _answer(sent)
        if status != 200 or decision != EXPECTED:
            raise SystemExit(
                f"{label}: request {n} to /hooks/{route} answered {status} {decision!r}, not "
                f"200 {EXPECTED!r}: the bench would be timing a failure"
            )
        if getattr(store, "degraded", False):
            raise SystemExit(
                f"{label}: request {n} to /hooks/{route} was answered from this process's memory "
                "because the Redis store failed (see the log above): not a Redis measurement"
            )
        sent.clear()
    return statistics.median(samples[requests // 10 :]) * 1e6


async def _stored(label: str, server: Any, redis_url: str | None, keys: list[str]) -> list[Any]:
    """The sessions under ``keys``: from redis-server itself for Redis (not through the app's
    store, which could answer from its fallback memory), else from the app's memory store."""
    if redis_url is None:
        return [await server.runtime.store.get(key) for key in keys]
    import redis.asyncio

    client = redis.asyncio.Redis.from_url(redis_url)
    try:
        return [await client.get(key) for key in keys]
    finally:
        await client.aclose()


async def verify_sessions(
    label: str, server: Any, redis_url: str | None, calls: list[str], requests: int
) -> None:
    """Each call's session holds the last value written and one attempt per request: every
    read saw the previous write and every write landed, in the store the row is named for."""
    if redis_url is not None and server.runtime.store.kind != "redis":
        raise SystemExit(f"{label}: the app's store is {server.runtime.store.kind}, not Redis")
    fallbacks = _fallbacks(server)
    if fallbacks:
        raise SystemExit(f"{label}: {fallbacks:.0f} store operations fell back to memory")
    prefix = f"ivrhooks:{server.runtime.manifest.app_id}:session:"
    where = "redis-server" if redis_url is not None else "the memory store"
    for index, (call_id, raw) in enumerate(
        zip(
            calls, await _stored(label, server, redis_url, [prefix + c for c in calls]), strict=True
        )
    ):
        asked = len(range(index, requests, len(calls)))
        if raw is None:
            raise SystemExit(f"{label}: no session {call_id} in {where} after {asked} writes")
        stored = json.loads(raw)
        if stored.get("data") != {"last": "2"} or stored.get("n") != {"remembers": asked}:
            raise SystemExit(
                f"{label}: session {call_id} in {where} is {stored!r}, not the value written "
                f"with {asked} attempts counted: a read or a write went missing"
            )


async def row(label: str, redis_url: str | None, requests: int) -> tuple[float, float]:
    """Microseconds per request without the session and with a read + write, both verified."""
    run = secrets.token_hex(4)  # this run's calls: nothing left by another run is counted
    calls = [f"{run}-{i}" for i in range(CALLS)]
    server = build(redis_url)
    try:
        plain = await measure(server, label, "plain", "1", requests, calls)
        with_session = await measure(server, label, "remembers", "2", requests, calls)
        await verify_sessions(label, server, redis_url, calls, requests)
    finally:
        await server.runtime.store.close()
    return plain, with_session


async def main(requests: int) -> None:
    with redis_server() as url:
        rows = []
        for label, redis_url in (("memory", None), ("redis", url)):
            if label == "redis" and redis_url is None:
                print("redis-server not installed: no Redis row")
                continue
            rows.append((label, *await row(label, redis_url, requests)))
        print(f"{'store':<8} {'no session µs':>14} {'read+write µs':>14} {'cost µs':>9}")
        for label, plain, with_session in rows:
            print(f"{label:<8} {plain:>14.1f} {with_session:>14.1f} {with_session - plain:>9.1f}")
        print(
            f"verified: every request answered 200 {EXPECTED['action']} "
            f"{EXPECTED['destination']}; each row's {CALLS} sessions read back (Redis: from "
            "redis-server) with every write counted; no store operation fell back to memory"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5000)
    asyncio.run(main(parser.parse_args().requests))
