"""The request line names its trace: ``trace_id`` and ``span_id`` of the request's server span,
on both the direct path and through stdlib logging, and only when a span is recording."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from ivrhooks import ActionRequest, IVRHooks, call
from ivrhooks.observe.logs import close_logging, configure_logging
from tests.conftest import new_app
from tests.tracing.conftest import Spans

CALL = {"from": "5551234", "to": "8000", "input": "1", "session_id": "s-1"}


@pytest.fixture(autouse=True)
def _restore() -> Iterator[None]:
    root = logging.getLogger()
    saved = (root.level, list(root.handlers))
    yield
    close_logging()
    root.setLevel(saved[0])
    root.handlers[:] = saved[1]


async def _request_lines(app: IVRHooks, buffered: bool) -> list[dict[str, Any]]:
    stream = io.StringIO()
    configure_logging("INFO", stream=stream, buffered=buffered)

    @app.dtmf("1")
    async def sales(req: ActionRequest) -> object:
        return call("2001")

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://pbx") as client:
        assert (await client.post("/hooks/sales", json=CALL)).status_code == 200
    close_logging()  # writes what the buffered writer holds
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    return [line for line in lines if line.get("event") == "request"]


@pytest.mark.parametrize("buffered", [True, False], ids=["direct-line", "stdlib-logging"])
async def test_the_request_line_carries_the_server_spans_ids(spans: Spans, buffered: bool) -> None:
    [line] = await _request_lines(new_app(tracing=spans.provider), buffered)
    server = spans.named("POST /hooks/sales")
    assert line["trace_id"] == format(server.context.trace_id, "032x")
    assert line["span_id"] == format(server.context.span_id, "016x")
    assert list(line)[-2:] == ["trace_id", "span_id"]
    assert line["session_id"] == "s-1"


@pytest.mark.parametrize("buffered", [True, False], ids=["direct-line", "stdlib-logging"])
async def test_without_tracing_the_line_is_unchanged(buffered: bool) -> None:
    [line] = await _request_lines(new_app(tracing=False), buffered)
    assert "trace_id" not in line and "span_id" not in line
    assert list(line)[-1] == "status"
