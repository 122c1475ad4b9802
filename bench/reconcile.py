"""Reconcile 100 receptionists x 10 routes against a fake PBX in its own process.

The fake PBX runs as ``ivrhooks fake-pbx --latency 0.02`` (20 ms added to every resource
request), so this process's event loop runs ivrhooks alone and the figure measures ivrhooks, not
the fake. For a fresh PBX and for one already in sync it reports the wall time against its
bound, max(calls x latency / concurrency, requests / rate budget), the API calls the fake PBX
counted (resource endpoints; token calls apart) and the most requests that arrived at the PBX
within any one second.

    python bench/reconcile.py [--receptionists 100] [--routes 10] [--latency 0.02]
                              [--concurrency 8] [--rate 40]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from ivrhooks import IVRHooks, call  # noqa: E402
from ivrhooks.core.request import ActionRequest  # noqa: E402
from ivrhooks.fakepbx import DEFAULT_PASSWORD, DEFAULT_USERNAME  # noqa: E402
from ivrhooks.fakepbx.rates import STATS_PATH  # noqa: E402
from ivrhooks.pbx import PBXClient  # noqa: E402
from ivrhooks.pbx.ratelimit import DEFAULT_RATE  # noqa: E402
from ivrhooks.registration import desired_state, reconcile  # noqa: E402
from ivrhooks.registration.apply import DEFAULT_CONCURRENCY  # noqa: E402

TARGET = 1.25  # issue 16: within 1.25x of the bound


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


@contextlib.contextmanager
def fake_pbx(extensions: list[str], latency: float) -> Iterator[str]:
    """``ivrhooks fake-pbx`` in a subprocess; yields its base URL once it listens."""
    # Port 0: the PBX binds a free port itself and prints it; a number picked here and bound
    # there later could be given to another process in between.
    cmd = [sys.executable, "-m", "ivrhooks", "fake-pbx", "--port", "0"]
    cmd += ["--latency", str(latency), "--password", DEFAULT_PASSWORD]
    for ext in extensions:
        cmd += ["--ivr", f"{ext}:R{ext}"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        for line in proc.stdout:  # it prints its URL, then the receptionists, once listening
            if line.startswith("fake PBX REST API:"):
                break
        else:
            raise RuntimeError(f"ivrhooks fake-pbx exited with {proc.wait()}")
        for _ in extensions:
            proc.stdout.readline()
        yield line.split()[-1].removesuffix("/api")  # "fake PBX REST API: http://HOST:PORT/api"
    finally:
        proc.terminate()
        proc.wait(10)


async def main(
    receptionists: int, routes: int, latency: float, concurrency: int, rate: int | None
) -> None:
    extensions = [str(8000 + n) for n in range(receptionists)]
    manifest = build_app(extensions, routes).manifest()
    state = desired_state(manifest)
    shown = "off" if rate is None else f"{rate}/s"
    print(
        f"{receptionists} receptionists x {routes} routes, fake PBX in its own process with "
        f"{latency * 1000:.0f} ms latency, concurrency {concurrency}, rate budget {shown}"
    )
    with fake_pbx(extensions, latency) as base:
        async with (
            httpx.AsyncClient(base_url=base) as stats,
            PBXClient(
                base + "/api", username=DEFAULT_USERNAME, password=DEFAULT_PASSWORD, rate=rate
            ) as pbx,
        ):
            for label in ("fresh", "in sync"):
                before = (await stats.post(STATS_PATH)).json()  # resets the counters
                started = time.perf_counter()
                report = await reconcile(
                    pbx, state, app_id=manifest.app_id, concurrency=concurrency
                )
                wall = time.perf_counter() - started
                c = (await stats.get(STATS_PATH)).json()
                tokens = c["token_calls"] - before["token_calls"]
                bound = c["calls"] * latency / concurrency
                if rate is not None:
                    bound = max(bound, c["requests"] / rate)
                ratio = wall / bound if bound else float("nan")
                verdict = "MET" if ratio <= TARGET else "NOT MET"
                print(
                    f"{label:>8}: {wall:6.2f} s wall, bound {bound:6.2f} s, ratio {ratio:.2f} "
                    f"({verdict}: <= {TARGET}); {c['calls']} API calls ({c['reads']} reads, "
                    f"{c['creates']} creates, {c['updates']} updates, {c['destroys']} deletes) "
                    f"+ {tokens} token call(s); busiest second at the PBX "
                    f"{c['peak_per_second']} requests; plan drift {report.drift}"
                )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--receptionists", type=int, default=100)
    parser.add_argument("--routes", type=int, default=10)
    parser.add_argument("--latency", type=float, default=0.02)
    parser.add_argument("--concurrency", type=int, default=DEFAULT_CONCURRENCY)
    parser.add_argument("--rate", type=int, default=DEFAULT_RATE, help="requests/s; 0: off")
    args = parser.parse_args()
    rate = args.rate or None
    asyncio.run(main(args.receptionists, args.routes, args.latency, args.concurrency, rate))
