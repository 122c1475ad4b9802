"""Structured logs: the JSON line, configure_logging, number masking and the request line."""

from __future__ import annotations

import io
import json
import logging
import math
import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from ivrhooks.errors import ConfigurationError
from ivrhooks.observe import logs
from ivrhooks.observe.logs import (
    JSONFormatter,
    configure_logging,
    log_request,
    mask_number,
    number_masking_enabled,
    set_number_masking,
)
from ivrhooks.testing import serve

_TOUCHED = ("", "httpx", "httpcore", "uvicorn", "uvicorn.error", "uvicorn.access")


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """configure_logging changes process-wide state: put it back after every test."""
    saved = {
        name: (
            logging.getLogger(name).level,
            list(logging.getLogger(name).handlers),
            list(logging.getLogger(name).filters),
            logging.getLogger(name).propagate,
            logging.getLogger(name).disabled,
        )
        for name in _TOUCHED
    }
    masking = number_masking_enabled()
    yield
    set_number_masking(masking)
    for name, (level, handlers, filters, propagate, disabled) in saved.items():
        logger = logging.getLogger(name)
        for handler in logger.handlers:
            if handler not in handlers:
                handler.close()
        logger.setLevel(level)
        logger.handlers[:] = handlers
        logger.filters[:] = filters
        logger.propagate = propagate
        logger.disabled = disabled


def _json_logger(name: str, level: int = logging.DEBUG) -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JSONFormatter())
    logger = logging.getLogger(f"ivrhooks.test.{name}")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(level)
    return logger, stream


def _reject_nan(token: str) -> Any:
    raise AssertionError(f"not JSON: {token}")


def _lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line, parse_constant=_reject_nan) for line in stream.getvalue().splitlines()]


# --- JSONFormatter ----------------------------------------------------------------------------


def test_a_line_has_ts_level_logger_event_and_extras() -> None:
    logger, stream = _json_logger("fields")
    logger.warning("pbx %s", "slow", extra={"latency_ms": 12.5, "route": "sales"})
    [line] = _lines(stream)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", line["ts"])
    assert datetime.fromisoformat(line["ts"]).utcoffset() is not None
    assert line["level"] == "WARNING"
    assert line["logger"] == "ivrhooks.test.fields"
    assert line["event"] == "pbx slow"
    assert line["latency_ms"] == 12.5
    assert line["route"] == "sales"
    assert "exc" not in line
    assert "msg" not in line and "args" not in line  # record internals stay out


def test_exception_info_becomes_exc() -> None:
    logger, stream = _json_logger("exc")
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logger.exception("handler failed")
    [line] = _lines(stream)
    assert line["event"] == "handler failed"
    assert line["level"] == "ERROR"
    assert line["exc"].startswith("Traceback (most recent call last)")
    assert "RuntimeError: boom" in line["exc"]


def test_stack_info_becomes_stack() -> None:
    logger, stream = _json_logger("stack")
    logger.info("where", stack_info=True)
    [line] = _lines(stream)
    assert line["stack"].startswith("Stack (most recent call last)")


class _Opaque:
    def __repr__(self) -> str:
        return "<opaque>"


class _Unrepresentable:
    def __repr__(self) -> str:
        raise RuntimeError("no repr")


def _circular() -> list[Any]:
    loop: list[Any] = [1]
    loop.append(loop)
    return loop


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (_Opaque(), "<opaque>"),
        (b"\x00bytes", "b'\\x00bytes'"),
        ({1, 2}, "{1, 2}"),
        (math.nan, "nan"),
        ({("tuple", "key"): 1}, "{('tuple', 'key'): 1}"),
        (_circular(), "[1, [...]]"),
        (_Unrepresentable(), "<unrepresentable _Unrepresentable>"),
    ],
    ids=["object", "bytes", "set", "nan", "tuple-key", "circular", "repr-raises"],
)
def test_values_json_cannot_encode_are_written_as_repr(value: object, expected: str) -> None:
    logger, stream = _json_logger("unserialisable")
    logger.info("odd", extra={"value": value, "plain": 1})
    [line] = _lines(stream)
    assert line["value"] == expected
    assert line["plain"] == 1  # the rest of the line stays structured


def test_an_extra_named_like_a_core_key_does_not_overwrite_it() -> None:
    logger, stream = _json_logger("collide")
    logger.info("real event", extra={"event": "fake", "level": "fake", "ts": "fake"})
    [line] = _lines(stream)
    assert line["event"] == "real event"
    assert line["level"] == "INFO"
    assert line["ts"] != "fake"
    assert (line["event_"], line["level_"], line["ts_"]) == ("fake", "fake", "fake")


def test_a_bad_format_string_still_produces_a_line() -> None:
    logger, stream = _json_logger("badfmt")
    logger.info("two %s %s", "one")
    [line] = _lines(stream)
    assert line["event"] == "'two %s %s' % ('one',)"


def test_secrets_in_the_message_are_not_redacted_by_the_formatter() -> None:
    # The formatter makes no promise to find secrets: masking happens at the source.
    logger, stream = _json_logger("secret")
    logger.info("login with %s", "hunter2secret")
    [line] = _lines(stream)
    assert line["event"] == "login with hunter2secret"


# --- configure_logging ------------------------------------------------------------------------


def _ours() -> list[logging.Handler]:
    return [h for h in logging.getLogger().handlers if isinstance(h, logs._Handler)]


def test_configure_logging_is_idempotent_and_writes_json() -> None:
    first, second = io.StringIO(), io.StringIO()
    configure_logging("debug", stream=first)
    configure_logging("INFO", stream=second)
    assert len(_ours()) == 1
    assert logging.getLogger().level == logging.INFO
    logging.getLogger("ivrhooks.app").info("ready", extra={"port": 8080})
    logging.getLogger("ivrhooks.app").debug("dropped")
    assert first.getvalue() == ""
    [line] = _lines(second)
    assert (line["event"], line["port"], line["logger"]) == ("ready", 8080, "ivrhooks.app")


def test_configure_logging_text_mode_keeps_extras_readable() -> None:
    stream = io.StringIO()
    configure_logging("INFO", json=False, stream=stream)
    logging.getLogger("ivrhooks.app").info("ready", extra={"port": 8080})
    assert re.search(r" INFO ivrhooks\.app ready port=8080$", stream.getvalue().strip())


def test_configure_logging_rejects_an_unknown_level_and_changes_nothing() -> None:
    before = list(logging.getLogger().handlers), logging.getLogger().level
    with pytest.raises(ConfigurationError, match=r"log level 'LOUD' is not one of DEBUG, INFO"):
        configure_logging("LOUD", stream=io.StringIO())
    assert (list(logging.getLogger().handlers), logging.getLogger().level) == before


def test_configure_logging_quiets_httpx_which_logs_urls_at_info() -> None:
    configure_logging("INFO", stream=io.StringIO())
    assert logging.getLogger("httpx").getEffectiveLevel() == logging.WARNING
    assert logging.getLogger("httpcore").getEffectiveLevel() == logging.WARNING


def test_configure_logging_points_uvicorn_loggers_back_at_the_root() -> None:
    # What uvicorn's default dictConfig leaves behind after an earlier server in the process.
    access = logging.getLogger("uvicorn.access")
    access.addHandler(logging.NullHandler())
    access.propagate = False
    configure_logging("INFO", stream=io.StringIO())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        assert logging.getLogger(name).handlers == []
        assert logging.getLogger(name).propagate


async def _ok(request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


_HOOK_APP = Starlette(routes=[Route("/hook", _ok), Route("/customers/{phone}", _ok)])


async def test_access_log_and_httpx_lines_carry_no_caller_number() -> None:
    stream = io.StringIO()
    configure_logging("INFO", stream=stream)
    # log_config=None: uvicorn leaves logging to us, as the CLI runs it.
    async with (
        serve(_HOOK_APP, access_log=True, log_level="info", log_config=None) as url,
        httpx.AsyncClient() as client,
    ):
        r1 = await client.get(url + "/hook", params={"from": "5551234", "to": "8000"})
        r2 = await client.get(url + "/customers/5559876")
    assert (r1.status_code, r2.status_code) == (200, 200)
    lines = _lines(stream)
    access = [line for line in lines if line["logger"] == "uvicorn.access"]
    assert [line["event"].split('"')[1] for line in access] == [
        "GET /hook HTTP/1.1",
        "GET /customers/5559876 HTTP/1.1",  # a path is not a query string: the app's choice
    ]
    assert not [line for line in lines if line["logger"].startswith("httpx")]
    assert "5551234" not in stream.getvalue()


async def test_access_log_filter_survives_uvicorns_own_logging_config() -> None:
    configure_logging("INFO", stream=io.StringIO())
    # Default log_config: uvicorn runs dictConfig, which replaces handlers but keeps filters.
    async with serve(_HOOK_APP, access_log=True, log_level="info") as url:
        seen: list[str] = []
        capture = logging.Handler()
        capture.emit = lambda record: seen.append(record.getMessage())  # type: ignore[method-assign]
        logging.getLogger("uvicorn.access").addHandler(capture)
        async with httpx.AsyncClient() as client:
            await client.get(url + "/hook", params={"from": "5551234"})
    assert len(seen) == 1
    assert '"GET /hook HTTP/1.1" 200' in seen[0]
    assert "5551234" not in seen[0]


# --- mask_number ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "keep", "masked"),
    [
        ("5551234", 2, "55***34"),
        ("+4930123456", 2, "+4*******56"),
        ("4930123456", 3, "493****456"),
        ("5551234", 1, "5*****4"),
        ("5551234", 0, "*******"),
        ("123456", 2, "1****6"),
        ("12345", 2, "1***5"),
        ("2001", 2, "****"),
        ("101", 2, "***"),
        ("", 2, ""),
        (None, 2, None),
    ],
    ids=[
        "seven",
        "e164",
        "keep-3",
        "keep-1",
        "keep-0",
        "six",
        "five",
        "extension",
        "three",
        "empty",
        "none",
    ],
)
def test_mask_number(number: str | None, keep: int, masked: str | None) -> None:
    assert mask_number(number, keep=keep) == masked


def test_mask_number_rejects_a_negative_keep() -> None:
    with pytest.raises(ValueError, match="keep must be >= 0"):
        mask_number("5551234", keep=-1)


def test_masking_can_be_switched_off_and_on() -> None:
    assert number_masking_enabled()
    set_number_masking(False)
    assert mask_number("5551234") == "5551234"
    set_number_masking(True)
    assert mask_number("5551234") == "55***34"


# --- log_request ------------------------------------------------------------------------------


def _request_line(logger: logging.Logger, caller: str | None) -> None:
    log_request(
        logger,
        session_id="12345678",
        receptionist="8000",
        route="sales",
        kind="DTMF",
        action="call",
        destination="2001",
        auth="digest",
        latency_ms=3.14159,
        deadline_hit=False,
        fallback_cause=None,
        caller=caller,
        status=200,
    )


def test_log_request_writes_one_request_line_with_every_field() -> None:
    logger, stream = _json_logger("request")
    _request_line(logger, "5551234")
    [line] = _lines(stream)
    assert line["event"] == "request"
    assert line["level"] == "INFO"
    assert {k: v for k, v in line.items() if k not in ("ts", "level", "logger", "event")} == {
        "session_id": "12345678",
        "receptionist": "8000",
        "route": "sales",
        "kind": "DTMF",
        "action": "call",
        "destination": "2001",
        "auth": "digest",
        "latency_ms": 3.14,
        "deadline_hit": False,
        "fallback_cause": None,
        "caller": "55***34",
        "status": 200,
    }


@pytest.mark.parametrize("caller", ["5551234", "+4930123456", "0049301234567", "86123456789"])
def test_log_request_never_emits_the_raw_caller_while_masking_is_on(caller: str) -> None:
    logger, stream = _json_logger("nocaller")
    _request_line(logger, caller)
    assert caller not in stream.getvalue()
    assert _lines(stream)[0]["caller"] == mask_number(caller)


def test_log_request_emits_the_full_caller_when_masking_is_off() -> None:
    set_number_masking(False)
    logger, stream = _json_logger("fullcaller")
    _request_line(logger, "5551234")
    assert _lines(stream)[0]["caller"] == "5551234"


def test_log_request_does_nothing_when_info_is_disabled() -> None:
    logger, stream = _json_logger("quiet", level=logging.WARNING)
    made: list[logging.LogRecord] = []
    factory = logging.getLogRecordFactory()

    def counting(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = factory(*args, **kwargs)
        made.append(record)
        return record

    logging.setLogRecordFactory(counting)
    try:
        _request_line(logger, "5551234")
    finally:
        logging.setLogRecordFactory(factory)
    assert made == []
    assert stream.getvalue() == ""


def test_uvicorns_colour_copy_of_the_event_is_left_out() -> None:
    import json
    import logging

    from ivrhooks.observe.logs import JSONFormatter

    record = logging.makeLogRecord(
        {"msg": "Started", "levelno": 20, "levelname": "INFO", "color_message": "\x1b[36mStarted"}
    )
    line = json.loads(JSONFormatter().format(record))
    assert line["event"] == "Started" and "color_message" not in line
