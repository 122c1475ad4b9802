"""The request line under ``configure_logging(buffered=True)`` (what ``ivrhooks run`` uses):
rendered directly, the same JSON object JSONFormatter writes, and still governed by the
``ivrhooks.request`` logger's level, disabled flag, filters and handlers."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from ivrhooks.observe.logs import (
    JSONFormatter,
    close_logging,
    configure_logging,
    log_request,
    number_masking_enabled,
    set_number_masking,
)
from ivrhooks.observe.requestline import render_request_line, timestamp

REQUEST = logging.getLogger("ivrhooks.request")


@pytest.fixture(autouse=True)
def _restore() -> Iterator[None]:
    root = logging.getLogger()
    saved = (root.level, list(root.handlers), REQUEST.level, REQUEST.disabled, REQUEST.propagate)
    masking = number_masking_enabled()
    yield
    close_logging()
    set_number_masking(masking)
    root.setLevel(saved[0])
    root.handlers[:] = saved[1]
    REQUEST.setLevel(saved[2])
    REQUEST.disabled, REQUEST.propagate = saved[3], saved[4]
    REQUEST.handlers.clear()
    REQUEST.filters.clear()


FIELDS: dict[str, Any] = {
    "session_id": "s-1",
    "receptionist": "8000",
    "route": "sales",
    "kind": "DTMF",
    "action": "call",
    "destination": "2001",
    "auth": "basic",
    "latency_ms": 3.14159,
    "deadline_hit": False,
    "fallback_cause": None,
    "caller": "5551234",
    "status": 200,
}


def _buffered() -> io.StringIO:
    stream = io.StringIO()
    configure_logging("INFO", stream=stream, buffered=True)
    return stream


def _lines(stream: io.StringIO) -> list[dict[str, Any]]:
    close_logging()  # writes everything buffered
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def _stdlib_line(**fields: Any) -> dict[str, Any]:
    """What the unbuffered path (a LogRecord through JSONFormatter) writes for the same call."""
    stream = io.StringIO()
    configure_logging("INFO", stream=stream)
    log_request(REQUEST, **fields)
    [line] = [json.loads(text) for text in stream.getvalue().splitlines()]
    close_logging()
    return line


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"session_id": None, "fallback_cause": "no_match", "deadline_hit": True},
        {"session_id": 'quote " back \\ slash', "destination": "line\nbreak\ttab"},
        {"caller": "+4930123456", "receptionist": "8001", "latency_ms": 0.0},
        {"caller": "1234", "session_id": "ünïcode ☎", "latency_ms": 1234567.891},
        {"caller": None, "status": 200, "latency_ms": 0.004},
        {"trace": ("0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331")},
    ],
    ids=[
        "plain",
        "nulls-and-true",
        "escapes",
        "international",
        "unicode-short",
        "no-caller",
        "traced",
    ],
)
def test_the_direct_line_is_the_object_jsonformatter_writes(changes: dict[str, Any]) -> None:
    fields = {**FIELDS, **changes}
    expected = _stdlib_line(**fields)
    stream = _buffered()
    log_request(REQUEST, **fields)
    [line] = _lines(stream)
    assert line.keys() == expected.keys()
    assert list(line) == list(expected)  # same order too
    del line["ts"], expected["ts"]
    assert line == expected


def test_the_caller_is_masked_and_can_be_unmasked() -> None:
    stream = _buffered()
    log_request(REQUEST, **FIELDS)
    set_number_masking(False)
    log_request(REQUEST, **FIELDS)
    text = stream.getvalue
    masked, full = _lines(stream)
    assert masked["caller"] == "55***34" and full["caller"] == "5551234"
    assert text().count("5551234") == 1


@pytest.mark.parametrize(
    "turn_off",
    [
        lambda: REQUEST.setLevel(logging.WARNING),
        lambda: setattr(REQUEST, "disabled", True),
        lambda: logging.getLogger().setLevel(logging.WARNING),
        lambda: logging.disable(logging.INFO),
    ],
    ids=["level-raised", "disabled", "root-at-warning", "logging-disable"],
)
def test_no_line_when_the_request_logger_would_drop_info(turn_off: Any) -> None:
    stream = _buffered()
    turn_off()
    try:
        log_request(REQUEST, **FIELDS)
    finally:
        logging.disable(logging.NOTSET)
    assert _lines(stream) == []


def test_a_filter_on_the_request_logger_still_decides() -> None:
    stream = _buffered()
    REQUEST.addFilter(lambda record: getattr(record, "route", None) != "sales")
    log_request(REQUEST, **FIELDS)
    log_request(REQUEST, **{**FIELDS, "route": "support"})
    assert [line["route"] for line in _lines(stream)] == ["support"]


def test_an_operators_handler_gets_the_line_through_stdlib_logging() -> None:
    stream = _buffered()
    theirs = io.StringIO()
    handler = logging.StreamHandler(theirs)
    handler.setFormatter(JSONFormatter())
    REQUEST.addHandler(handler)
    log_request(REQUEST, **FIELDS)
    assert json.loads(theirs.getvalue())["caller"] == "55***34"
    [ours] = _lines(stream)  # and the buffered handler still gets it, by propagation
    assert ours["route"] == "sales"


def test_request_and_other_lines_keep_their_order() -> None:
    stream = _buffered()
    app = logging.getLogger("ivrhooks.app")
    app.info("one")
    log_request(REQUEST, **FIELDS)
    app.warning("three")
    assert [line["event"] for line in _lines(stream)] == ["one", "request", "three"]


def test_text_logs_keep_the_request_line_in_stdlib_logging() -> None:
    stream = io.StringIO()
    configure_logging("INFO", json=False, stream=stream, buffered=True)
    log_request(REQUEST, **FIELDS)
    close_logging()
    assert " INFO ivrhooks.request request " in stream.getvalue()


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (0.0, "1970-01-01T00:00:00.000Z"),
        (1700000000.1234, "2023-11-14T22:13:20.123Z"),
        (1700000000.9999, "2023-11-14T22:13:20.999Z"),
        (1700000001.0, "2023-11-14T22:13:21.000Z"),
    ],
    ids=["epoch", "millis", "truncated-not-rounded", "next-second"],
)
def test_timestamp(now: float, expected: str) -> None:
    assert timestamp(now) == expected


def test_the_rendered_line_is_one_line() -> None:
    t = "a\nb"
    line = render_request_line(0.0, "ivrhooks.request", t, t, t, t, t, t, t, 1.0, False, t, t, 200)
    assert line.endswith("\n") and line.count("\n") == 1
    json.loads(line)
