"""What tracing costs one action-URL request in process, by mode (issue 17).

    python bench/tracing_cost.py [--requests 20000] [--rounds 5]

The ivrhooks bench app (1,000 Basic routes, the load's route) is called as an ASGI app, with no
server and no socket, so the figure is ivrhooks' own work per request: auth, parse, match,
handler, render, observers, and the spans when on. The request line is off (the request logger
is at its default WARNING) in every mode, so only tracing differs. Modes, each a fresh build of
the same app, measured in turn round after round (medians reported):

- ``tracing off``: ``IVRHooks(tracing=False)`` (what an app without a provider runs: the same
  objects, decided at build time);
- ``off, one observer added``: the same with an application observer that does nothing (the
  fan-out's cost);
- ``traced, BatchSpanProcessor``: an SDK ``TracerProvider`` with a ``BatchSpanProcessor`` and an
  exporter that drops the spans (production's shape, no collector);
- ``traced, SimpleSpanProcessor + in-memory``: spans exported synchronously to memory (what
  the tests use; cleared between rounds).

A last line shows the SDK's own floor: two spans started, made current and ended with the same
attributes as the request's, through the batch provider, with nothing of ivrhooks around them.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import gc
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SimpleSpanProcessor,
    SpanExporter,
    SpanExportResult,
)
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    InMemorySpanExporter,
)

from bench.apps import SECRET, query_for, target_route
from bench.apps.ivr import build
from ivrhooks import Observer
from ivrhooks.core.auth import derive_credentials
from ivrhooks.server import Server

ROUTES = 1000


class _Dropped(SpanExporter):
    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


def _server(tracing: object, observers: Sequence[Observer] = ()) -> Server:
    app = build(ROUTES, "basic")
    app.tracing = tracing  # type: ignore[assignment]  # read at build
    app.observers = list(observers)
    return app.build()


def _scope() -> dict[str, Any]:
    n = target_route(ROUTES)
    creds = derive_credentials(SECRET, f"r{n}")
    basic = base64.b64encode(f"{creds.username}:{creds.password}".encode())
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": f"/hooks/r{n}",
        "raw_path": f"/hooks/r{n}".encode(),
        "root_path": "",
        "query_string": query_for(n).encode(),
        "headers": [(b"host", b"127.0.0.1:8080"), (b"authorization", b"Basic " + basic)],
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8080),
    }


async def _per_request(server: Server, n: int) -> float:
    scope = _scope()
    statuses: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    started = time.perf_counter()
    for _ in range(n):
        await server(scope, receive, send)  # type: ignore[arg-type]
    elapsed = time.perf_counter() - started
    if set(statuses) != {200}:
        raise SystemExit(f"answered {sorted(set(statuses))}, not 200")
    return elapsed / n * 1e6


def _sdk_floor(provider: TracerProvider, n: int) -> float:
    """Two spans (server and child) with the attributes a request's carry, nothing else."""
    from opentelemetry import context, trace

    tracer = provider.get_tracer("floor")
    server_attributes: dict[str, Any] = {
        "http.request.method": "GET",
        "http.route": "/hooks/r500",
        "url.path": "/hooks/r500",
        "url.scheme": "http",
        "ivrhooks.route": "r500",
        "ivrhooks.auth.scheme": "basic",
        "server.address": "127.0.0.1",
        "server.port": 8080,
        "network.peer.address": "127.0.0.1",
        "network.peer.port": 40000,
        "network.protocol.version": "1.1",
    }
    answer: dict[str, Any] = {
        "ivrhooks.receptionist": "8000",
        "ivrhooks.kind": "DTMF",
        "ivrhooks.action": "call",
        "ivrhooks.answered_by": "route",
        "ivrhooks.deadline_hit": False,
        "ivrhooks.destination": "2001",
        "ivrhooks.session_id": "bench-session-0001",
    }
    child_attributes = {"ivrhooks.route": "r500", "code.function.name": "bench.apps.ivr.transfer"}
    started = time.perf_counter()
    for _ in range(n):
        server = tracer.start_span(
            "GET /hooks/r500", kind=trace.SpanKind.SERVER, attributes=server_attributes
        )
        token = context.attach(trace.set_span_in_context(server))
        child = tracer.start_span("handler r500", attributes=child_attributes)
        inner = context.attach(trace.set_span_in_context(child))
        context.detach(inner)
        child.end()
        server.set_attributes(answer)
        server.set_attribute("http.response.status_code", 200)
        context.detach(token)
        server.end()
    return (time.perf_counter() - started) / n * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    batch = TracerProvider(shutdown_on_exit=False)
    batch.add_span_processor(BatchSpanProcessor(_Dropped(), max_queue_size=1 << 16))
    memory = InMemorySpanExporter()
    simple = TracerProvider(shutdown_on_exit=False)
    simple.add_span_processor(SimpleSpanProcessor(memory))
    modes: dict[str, Callable[[], Server]] = {
        "tracing off": lambda: _server(False),
        "off, one observer added": lambda: _server(False, [Observer()]),
        "traced, BatchSpanProcessor": lambda: _server(batch),
        "traced, SimpleSpanProcessor + in-memory": lambda: _server(simple),
    }
    servers = {name: make() for name, make in modes.items()}
    results: dict[str, list[float]] = {name: [] for name in modes}
    floors: list[float] = []
    print(f"{ROUTES} Basic routes, {args.requests} requests x {args.rounds} rounds, in process")
    for server in servers.values():  # warm-up: as long as a round, at most 1000 requests
        asyncio.run(_per_request(server, min(1000, args.requests)))
    memory.clear()
    # As `ivrhooks run` does after startup (freeze_gc): the route tables out of collections,
    # so each mode's garbage, not the others' survivors, is what the collector walks.
    gc.collect()
    gc.freeze()
    for _ in range(args.rounds):
        for name, server in servers.items():
            gc.collect()
            results[name].append(asyncio.run(_per_request(server, args.requests)))
            memory.clear()
        gc.collect()
        floors.append(_sdk_floor(batch, args.requests))  # in the same rounds, for the same noise
    base = statistics.median(results["tracing off"])
    for name, figures in results.items():
        median = statistics.median(figures)
        print(f"  {name:42} {median:6.1f} µs/request  (+{median - base:5.1f} µs)")
    floor = statistics.median(floors)
    traced = statistics.median(results["traced, BatchSpanProcessor"])
    print(f"  {'SDK floor: the same two spans, bare':42} {floor:6.1f} µs")
    print(
        f"  {'ivrhooks around the spans (traced - off - floor)':42} {traced - base - floor:6.1f} µs"
    )
    batch.shutdown()


if __name__ == "__main__":
    main()
