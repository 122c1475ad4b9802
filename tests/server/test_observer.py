"""Each request leaves one JSON log line and Prometheus series; neither carries a secret."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from ivrhooks import ActionRequest, IVRHooks, RegistrationConfig, call
from ivrhooks.core.auth import derive_credentials
from ivrhooks.observe.logs import configure_logging

SECRET = "observability-secret-0123"


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    configure_logging("INFO", json=True, stream=stream)
    yield stream
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "stream", None) is stream:
            root.removeHandler(handler)
    root.setLevel(logging.WARNING)


def build() -> IVRHooks:
    # GET: the caller number travels in the query string, which the log must not show.
    app = IVRHooks(
        receptionists=["8000"],
        secret=SECRET,
        env=False,
        registration=RegistrationConfig(method="GET"),
    )

    @app.dtmf("1")
    async def sales(req: ActionRequest) -> object:
        return call("2001")

    @app.dtmf("2")
    async def broken(req: ActionRequest) -> object:
        raise RuntimeError("boom")

    return app


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


async def test_metrics_count_requests_fallbacks_and_auth_failures(log_stream: io.StringIO) -> None:
    app = build()
    sales = derive_credentials(SECRET, "sales")
    broken = derive_credentials(SECRET, "broken")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as c:
        for _ in range(3):
            await c.get(
                "/hooks/sales?from=5551234&to=8000&input=1", auth=(sales.username, sales.password)
            )
        await c.get(
            "/hooks/broken?from=5551234&to=8000&input=2", auth=(broken.username, broken.password)
        )
        await c.get("/hooks/sales?from=5551234&to=8000&input=1", auth=("wrongu", "wrongp"))
        text = (await c.get("/metrics")).text
    got = samples(text)
    assert (
        got[
            (
                "ivrhooks_requests_total",
                (("action", "call"), ("outcome", "route"), ("route", "sales")),
            )
        ]
        == 3
    )
    assert (
        got[
            (
                "ivrhooks_requests_total",
                (("action", "repeat"), ("outcome", "default"), ("route", "broken")),
            )
        ]
        == 1
    )
    assert got[("ivrhooks_fallbacks_total", (("cause", "error"),))] == 1
    # Exported merged with wrong passwords: /metrics tells no guesser which usernames exist.
    assert got[("ivrhooks_auth_failures_total", (("reason", "bad_credentials"),))] == 1
    assert got[("ivrhooks_request_latency_seconds_count", (("route", "sales"),))] == 3


async def test_one_json_line_per_request_with_the_caller_masked(log_stream: io.StringIO) -> None:
    app = build()
    creds = derive_credentials(SECRET, "sales")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as c:
        await c.get(
            "/hooks/sales?session_id=s-1&from=5551234&to=8000&input=1&from_name=Ann",
            auth=(creds.username, creds.password),
        )
        await c.get("/hooks/sales?from=5551234&to=8000&input=1", auth=("wrongu", "wrongp"))
    lines = [json.loads(line) for line in log_stream.getvalue().splitlines()]
    requests = [line for line in lines if line["event"] == "request"]
    assert len(requests) == 1
    line = requests[0]
    assert line["session_id"] == "s-1" and line["receptionist"] == "8000"
    assert (line["route"], line["action"], line["destination"]) == ("sales", "call", "2001")
    assert line["auth"] == "basic" and line["deadline_hit"] is False
    assert line["caller"] == "55***34"
    assert isinstance(line["latency_ms"], float)
    rejected = [line for line in lines if line.get("outcome") == "rejected"]
    assert len(rejected) == 1 and rejected[0]["reason"] == "unknown_user"
    text = log_stream.getvalue()
    for secret in (creds.password, creds.username, "5551234", "from_name=Ann", "wrongp"):
        assert secret not in text
