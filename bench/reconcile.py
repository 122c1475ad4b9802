"""Reconcile 100 receptionists x 10 routes against the fake PBX with 20 ms of injected latency.

Reports wall time and API calls (resource endpoints, counted by the fake PBX; the token calls
are reported apart) for a fresh PBX and for one already in sync.

    python bench/reconcile.py [--receptionists 100] [--routes 10] [--latency 0.02]
"""

from __future__ import annotations

import argparse
import asyncio
import time

from ivrhooks import IVRHooks, call
from ivrhooks.pbx import PBXClient
from ivrhooks.registration import DEFAULT_CONCURRENCY, desired_state, reconcile
from ivrhooks.request import ActionRequest
from ivrhooks.testing import FakePBX, serve


def build_app(receptionists: list[str], routes: int) -> IVRHooks:
    app = IVRHooks(
        receptionists=receptionists,
        secret="bench-secret-0123456789abcdef",
        public_url="https://ivr.example.com",
        env=False,
    )
    for n in range(routes):

        async def handler(req: ActionRequest) -> object:
            return call("2001")

        app.dtmf(f"{n + 1}{n + 1}", name=f"route{n}")(handler)
    return app


async def main(receptionists: int, routes: int, latency: float, concurrency: int) -> None:
    extensions = [str(8000 + n) for n in range(receptionists)]
    fake = FakePBX()
    for ext in extensions:
        fake.add_ivr(ext, f"R{ext}")
    state = desired_state(build_app(extensions, routes))
    fake.faults.latency = latency
    print(
        f"{receptionists} receptionists x {routes} routes, {latency * 1000:.0f} ms PBX latency, "
        f"concurrency {concurrency}"
    )
    async with (
        serve(fake.app) as base,
        PBXClient(base + "/api", username=fake.username, password=fake.password) as pbx,
    ):
        for label in ("fresh", "in sync"):
            fake.reset_counters()
            logins = fake.tokens.logins + fake.tokens.refreshes
            started = time.perf_counter()
            report = await reconcile(pbx, state, concurrency=concurrency)
            wall = time.perf_counter() - started
            c = fake.counters
            tokens = fake.tokens.logins + fake.tokens.refreshes - logins
            print(
                f"{label:>8}: {wall:6.2f} s wall, {c.calls:5d} API calls "
                f"({c.calls - c.writes} reads, {c.creates} creates, {c.updates} updates, "
                f"{c.destroys} deletes) + {tokens} token call(s); plan drift {report.drift}"
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--receptionists", type=int, default=100)
    parser.add_argument("--routes", type=int, default=10)
    parser.add_argument("--latency", type=float, default=0.02)
    parser.add_argument("--concurrency", type=int, default=DEFAULT_CONCURRENCY)
    args = parser.parse_args()
    asyncio.run(main(args.receptionists, args.routes, args.latency, args.concurrency))
