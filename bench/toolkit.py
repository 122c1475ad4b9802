"""What the handler toolkit costs per request, in process: nothing when unused.

    python bench/toolkit.py                   # this checkout's rows
    python bench/toolkit.py --baseline DIR    # and another checkout's plain row, in the same run

Rows (each in a process of its own, alternating round after round, medians of the rounds):

- ``plain``: one POST through the whole served path (auth, parsing, routing, the handler,
  rendering), the handler using no resource and the app no middleware: what every request paid
  before the toolkit. With ``--baseline`` the same app on the other checkout's code runs beside
  it: the ratio says whether the toolkit costs the plain path anything.
- ``middleware``: the same app with one middleware that calls ``call_next``.
- ``resource``: the handler takes a resource (a dict) by name.
- ``local``: ``ivrhooks.testing.local`` dials, no sockets and no auth: dials a second.

Every request is checked outside the timed span: status 200 and exactly the expected decision.
The request log line is off in every row (``bench/e2e.py`` measures the service as shipped,
with it): what is compared is the request path itself.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import logging
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SECRET = "bench-toolkit-secret-0123456789"
EXPECTED = {"status_code": 200, "action": "call", "destination": "2001"}
ROWS = ("plain", "middleware", "resource", "local")


def _app(row: str) -> Any:
    from ivrhooks import ActionRequest, IVRHooks, call

    app = IVRHooks(receptionists=["8000"], secret=SECRET, env={"IVRHOOKS_REGISTER": "false"})
    if row == "middleware":

        @app.middleware
        async def tag(req: ActionRequest, call_next: Any) -> object:
            return await call_next(req)

    if row == "resource":

        @app.resource
        async def crm() -> Any:
            yield {"101": "2001"}

        @app.dtmf("1")
        async def sales(req: ActionRequest, crm: dict[str, str]) -> object:
            return call(crm[req.caller])

    else:

        @app.dtmf("1")
        async def sales(req: ActionRequest) -> object:  # type: ignore[no-redef]
            return call("2001")

    return app


def _credentials() -> str:
    try:
        from ivrhooks.core.auth import derive_credentials
    except ImportError:  # a checkout from before the core moved (ivrhooks.auth)
        from ivrhooks.auth import derive_credentials  # type: ignore[no-redef]
    creds = derive_credentials(SECRET, "sales")
    return base64.b64encode(f"{creds.username}:{creds.password}".encode()).decode()


async def _served(row: str, requests: int) -> float:
    """Microseconds per request through the served ASGI app."""
    app = _app(row)
    server = app.build()
    body = json.dumps({"from": "101", "to": "8000", "input": "1", "session_id": "b1"}).encode()
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/hooks/sales",
        "raw_path": b"/hooks/sales",
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"host", b"127.0.0.1"),
            (b"content-type", b"application/json"),
            (b"authorization", b"Basic " + _credentials().encode()),
        ],
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8080),
    }
    message = {"type": "http.request", "body": body, "more_body": False}

    async def receive() -> dict[str, Any]:
        return message

    sent: list[dict[str, Any]] = []

    async def send(part: dict[str, Any]) -> None:
        sent.append(part)

    # Only the resource row needs the lifespan (its resource is set up there); an older
    # checkout has no in-process way to run it.
    context = server.running(announce=False) if row == "resource" else _nothing()
    async with context:
        logging.getLogger("ivrhooks.request").setLevel(logging.WARNING)
        await server(scope, receive, send)  # warm
        _check(sent)
        sent.clear()
        started = time.perf_counter()
        for _ in range(requests):
            await server(scope, receive, send)
        took = time.perf_counter() - started
        _check(sent[-2:])
    return took / requests * 1e6


class _nothing:
    """An async context manager doing nothing."""

    async def __aenter__(self) -> None:
        return None

    async def __aexit__(self, *exc: object) -> None:
        return None


def _check(sent: list[dict[str, Any]]) -> None:
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    answer = json.loads(b"".join(m.get("body", b"") for m in sent if "body" in m))
    if status != 200 or answer != EXPECTED:
        raise SystemExit(f"unexpected answer {status} {answer}")


async def _local(requests: int) -> float:
    """Dials a second through ``ivrhooks.testing.local``."""
    from ivrhooks.testing import local

    async with local(_app("plain")) as ivr:
        started = time.perf_counter()
        for _ in range(requests):
            r = await ivr.dial(to="8000", caller="101", digits="1")
        took = time.perf_counter() - started
    if (r.action, r.destination, r.cause) != ("call", "2001", None):
        raise SystemExit(f"unexpected local answer {r}")
    return requests / took


def child(row: str, requests: int) -> None:
    figure = asyncio.run(_local(requests) if row == "local" else _served(row, requests))
    print(json.dumps({"row": row, "figure": figure}))


def measure(row: str, checkout: Path, requests: int) -> float:
    env = {**os.environ, "PYTHONPATH": f"{checkout}:{ROOT}"}
    env = {k: v for k, v in env.items() if not k.startswith("IVRHOOKS_")}
    done = subprocess.run(
        [sys.executable, __file__, "--child", row, "--requests", str(requests)],
        env=env,
        cwd=checkout,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"{row} on {checkout} failed:\n{done.stderr[-2000:]}")
    return float(json.loads(done.stdout.strip().splitlines()[-1])["figure"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--baseline", type=Path, help="another checkout: its plain row beside")
    parser.add_argument("--child", choices=ROWS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.requests)
        return
    runs: list[tuple[str, str, Path]] = [(row, row, ROOT) for row in ROWS]
    if args.baseline is not None:
        runs.insert(1, ("before: plain", "plain", args.baseline.resolve()))
    figures: dict[str, list[float]] = {label: [] for label, _, _ in runs}
    print(f"{args.requests} requests a run, {args.rounds} rounds, python {sys.version.split()[0]}")
    for number in range(args.rounds):
        print(f"round {number + 1}/{args.rounds}")
        for label, row, checkout in runs:
            figure = measure(row, checkout, args.requests)
            figures[label].append(figure)
            unit = "dials/s" if row == "local" else "µs/request"
            print(f"  {label:18} {figure:10.1f} {unit}")
    print("\nmedians")
    for label, values in figures.items():
        unit = "dials/s" if label == "local" else "µs/request"
        print(f"  {label:18} {statistics.median(values):10.1f} {unit}")
    plain = figures["plain"]
    print("\nratios (per round; median)")
    for label in ("before: plain", "middleware", "resource"):
        if label in figures:
            per_round = [a / b for a, b in zip(figures[label], plain, strict=True)]
            rounds = " ".join(f"{x:.3f}" for x in per_round)
            print(f"  {label:18} / plain: {rounds}  median {statistics.median(per_round):.3f}")


if __name__ == "__main__":
    main()
