"""The cost of a call's session per request: read and write, in memory and in Redis.

In process (no sockets between the PBX and the app), the same app answers the same POST
request through its whole served path: one route that never asks for the session, one that
reads it and writes a value back (one store read and one compare-and-set per request). Run:

    python bench/sessions.py [--requests N]

With ``redis-server`` installed, a Redis row is measured too (a server of its own on a free
loopback port; the Redis round trips are the cost).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.redis_proc import redis_server
from ivrhooks import IVRHooks, StoreConfig, call
from ivrhooks.auth import derive_credentials
from ivrhooks.types import ActionRequest

SECRET = "bench-sessions-secret-0123456789"


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


async def measure(server: Any, route: str, digit: str, requests: int) -> float:
    creds = derive_credentials(SECRET, route)
    import base64

    auth = b"Basic " + base64.b64encode(f"{creds.username}:{creds.password}".encode())
    sent: list[Any] = []

    async def send(message: Any) -> None:
        sent.append(message)

    samples = []
    for n in range(requests):
        body = b'{"from":"101","to":"8000","input":"%s","session_id":"s%d"}' % (
            digit.encode(),
            n % 50,  # 50 calls in flight, each asked again and again
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
        sent.clear()
    return statistics.median(samples[requests // 10 :]) * 1e6


async def main(requests: int) -> None:
    with redis_server() as url:
        rows = []
        for label, redis_url in (("memory", None), ("redis", url)):
            if label == "redis" and redis_url is None:
                print("redis-server not installed: no Redis row")
                continue
            server = build(redis_url)
            plain = await measure(server, "plain", "1", requests)
            with_session = await measure(server, "remembers", "2", requests)
            rows.append((label, plain, with_session))
            await server.runtime.store.close()
        print(f"{'store':<8} {'no session µs':>14} {'read+write µs':>14} {'cost µs':>9}")
        for label, plain, with_session in rows:
            print(f"{label:<8} {plain:>14.1f} {with_session:>14.1f} {with_session - plain:>9.1f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5000)
    asyncio.run(main(parser.parse_args().requests))
