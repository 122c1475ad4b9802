"""The shape of a log line: :class:`JSONFormatter` (one JSON object per line) and
:class:`TextFormatter` (for a terminal). Re-exported by :mod:`ivrhooks.logs`."""

from __future__ import annotations

import json as _json
import logging
from datetime import UTC, datetime
from typing import Any

from ivrhooks.observe.requestline import REQUEST_LINE, render_record

__all__ = ["JSONFormatter", "TextFormatter"]

# Attributes every LogRecord has; anything else on a record came from ``extra=``.
# ``taskName`` exists from Python 3.12 on; listed so 3.11 and 3.12 emit the same keys.
# uvicorn adds "color_message" (the event again, with terminal colour codes) to its records.
_RECORD_ATTRS = frozenset(vars(logging.makeLogRecord({}))) | {
    "message",
    "asctime",
    "taskName",
    "color_message",
}
_CORE_KEYS = ("ts", "level", "logger", "event", "exc", "stack")


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {
        key: value
        for key, value in record.__dict__.items()
        if key not in _RECORD_ATTRS and not key.startswith("_")
    }


def _message(record: logging.LogRecord) -> str:
    # A bad format/args pair must not lose the line (logging would print a traceback instead).
    try:
        return record.getMessage()
    except Exception:
        return f"{record.msg!r} % {record.args!r}"


def _safe_repr(value: object) -> str:
    try:
        return repr(value)
    except Exception:
        return f"<unrepresentable {type(value).__name__}>"


class JSONFormatter(logging.Formatter):
    """Format a record as one JSON object on one line.

    Keys: ``ts`` (RFC 3339, UTC, milliseconds), ``level``, ``logger``, ``event`` (the message),
    every ``extra=`` field, ``exc`` (the formatted traceback) when there is exception info and
    ``stack`` when ``stack_info=True``. Values JSON cannot encode are written as their
    ``repr``; an ``extra=`` field named like a core key is written with a trailing ``_``.
    Formatting never raises.

    Nothing is redacted here beyond what callers pass: a secret put in a message is logged.
    Mask at the source (see :func:`mask_number`) instead of trusting a filter to find it.
    """

    def format(self, record: logging.LogRecord) -> str:
        if record.__dict__.get(REQUEST_LINE) and not (record.exc_info or record.stack_info):
            return render_record(record)  # the request line: one renderer, whichever path
        payload: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "event": _message(record),
        }
        for key, value in _extras(record).items():
            payload[f"{key}_" if key in _CORE_KEYS else key] = value
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            payload["exc"] = record.exc_text
        if record.stack_info:
            payload["stack"] = self.formatStack(record.stack_info)
        return _dumps(payload)


def _dumps(payload: dict[str, Any]) -> str:
    try:
        # allow_nan=False: NaN/Infinity are not JSON; strict parsers reject the whole line.
        return _json.dumps(payload, default=_safe_repr, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError, RecursionError):
        # A circular structure, a non-string dict key or a NaN somewhere: repr only the
        # values that fail, so the rest of the line stays structured.
        safe: dict[str, Any] = {}
        for key, value in payload.items():
            try:
                _json.dumps(value, default=_safe_repr, allow_nan=False)
            except (TypeError, ValueError, RecursionError):
                value = _safe_repr(value)
            safe[key] = value
        return _json.dumps(safe, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """Human-readable lines for a terminal: ``time level logger event key=value ...``."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extras = _extras(record)
        if not extras:
            return line
        head, sep, tail = line.partition("\n")  # keep key=value on the first line
        fields = " ".join(f"{key}={value}" for key, value in extras.items())
        return f"{head} {fields}{sep}{tail}"
