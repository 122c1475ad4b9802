"""Structured logs: one JSON object per line, caller numbers masked, one line per request.

Plain stdlib :mod:`logging` underneath, so libraries and operators keep their usual tools.
What this module adds is the shape of a line (:class:`JSONFormatter`), a one-call setup for
the CLI (:func:`configure_logging`) and the request line the receiver writes on the hot path
(:func:`log_request`).

Privacy: GET action URLs carry the caller's number in the query string (PortSIP admin guide,
"Action URL"), and caller numbers are personal data. So caller numbers are masked by default,
uvicorn's access log loses its query strings, and httpx's per-request INFO lines (which show
URLs such as a CRM's ``/customers/<number>``) are turned down to WARNING.
"""

from __future__ import annotations

import json as _json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

from ivrhooks.errors import ConfigurationError, InvalidArgumentError

__all__ = [
    "JSONFormatter",
    "TextFormatter",
    "configure_logging",
    "ensure_request_logging",
    "log_request",
    "mask_number",
    "number_masking_enabled",
    "set_number_masking",
]

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

_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

# Loggers whose INFO lines would carry caller numbers in URLs: httpx logs every request URL.
_CHATTY_URL_LOGGERS = ("httpx", "httpcore")
_ACCESS_LOGGER = "uvicorn.access"
# uvicorn's own logging config gives these handlers of their own and stops propagation.
_UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", _ACCESS_LOGGER)


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


class _Handler(logging.StreamHandler[TextIO]):
    """Marks the handler configure_logging installed, so a second call replaces it."""


class _StripQueryString(logging.Filter):
    """Drop the query string from uvicorn access-log lines: on GET it carries caller numbers.

    uvicorn logs ``'%s - "%s %s HTTP/%s" %d'`` with the path-and-query as the third argument.
    Installed as a logger filter because uvicorn's own dictConfig replaces handlers but keeps
    filters.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                arg.partition("?")[0] if isinstance(arg, str) and arg.startswith("/") else arg
                for arg in record.args
            )
        return True


def ensure_request_logging(stream: TextIO | None = None) -> bool:
    """Keep the logging promises under any server (``uvicorn module:app`` included): strip query
    strings from uvicorn's access log, and, when nothing handles ivrhooks' log records (no
    handler on them or on the root logger), write them as JSON lines to ``stream`` (stderr).
    Returns whether a handler was installed. An operator's own logging setup is left alone."""
    access = logging.getLogger(_ACCESS_LOGGER)
    if not any(isinstance(f, _StripQueryString) for f in access.filters):
        access.addFilter(_StripQueryString())
    ours = logging.getLogger("ivrhooks")
    if ours.hasHandlers():
        return False
    handler = _Handler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JSONFormatter())
    ours.addHandler(handler)
    if ours.level == logging.NOTSET:
        ours.setLevel(logging.INFO)
    for logger_name in _CHATTY_URL_LOGGERS:
        logging.getLogger(logger_name).setLevel(logging.WARNING)
    return True


def configure_logging(level: str = "INFO", json: bool = True, stream: TextIO | None = None) -> None:
    """Send all logs to ``stream`` (default stderr) as JSON lines, or as text when ``json=False``.

    Idempotent: calling again replaces the handler installed before. Also strips query strings
    from uvicorn's access log and raises httpx's loggers to WARNING (see the module docstring),
    and points uvicorn's loggers back at the root logger. Run uvicorn with ``log_config=None``
    afterwards, or its own logging config takes them over again.
    """
    name = str(level).upper()
    if name not in _LEVELS:
        raise ConfigurationError(f"log level {level!r} is not one of {', '.join(_LEVELS)}")
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _Handler)]:
        root.removeHandler(old)
        old.close()
    handler = _Handler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JSONFormatter() if json else TextFormatter())
    root.addHandler(handler)
    root.setLevel(name)
    for logger_name in _CHATTY_URL_LOGGERS:
        logging.getLogger(logger_name).setLevel(logging.WARNING)
    for logger_name in _UVICORN_LOGGERS:
        logger = logging.getLogger(logger_name)
        logger.handlers.clear()
        logger.propagate = True
    access = logging.getLogger(_ACCESS_LOGGER)
    if not any(isinstance(f, _StripQueryString) for f in access.filters):
        access.addFilter(_StripQueryString())


# --- caller numbers ---------------------------------------------------------------------------

_masking = True


def set_number_masking(enabled: bool) -> None:
    """Turn caller-number masking on (the default) or off, process-wide.

    Off is for operators whose logs are allowed to hold full numbers (e.g. to trace a complaint).
    """
    global _masking
    _masking = bool(enabled)


def number_masking_enabled() -> bool:
    """Whether :func:`mask_number` currently masks."""
    return _masking


def mask_number(number: str | None, *, keep: int = 2) -> str | None:
    """Mask a phone number for logs: ``"5551234" -> "55***34"``; ``None`` stays ``None``.

    Up to ``keep`` characters stay visible at each end, but never so many that fewer than three
    are hidden: a 4-digit extension becomes ``"****"`` and ``"12345"`` becomes ``"1***5"``. The
    length is kept, which helps tell extensions from external numbers.
    """
    if keep < 0:
        raise InvalidArgumentError(f"keep must be >= 0, got {keep}")
    if number is None or not _masking:
        return number
    shown = min(keep, max(0, (len(number) - 3) // 2))
    if shown == 0:
        return "*" * len(number)
    return number[:shown] + "*" * (len(number) - 2 * shown) + number[-shown:]


def log_request(
    logger: logging.Logger,
    *,
    session_id: str | None,
    receptionist: str | None,
    route: str | None,
    kind: str | None,
    action: str | None,
    destination: str | None,
    auth: str | None,
    latency_ms: float,
    deadline_hit: bool,
    fallback_cause: str | None,
    caller: str | None,
    status: int,
) -> None:
    """Write the one ``"request"`` line for an action-URL request, at INFO, caller masked.

    On the hot path: when the logger would drop INFO, this returns before building anything.
    """
    if not logger.isEnabledFor(logging.INFO):
        return
    logger.info(
        "request",
        extra={
            "session_id": session_id,
            "receptionist": receptionist,
            "route": route,
            "kind": kind,
            "action": action,
            "destination": destination,
            "auth": auth,
            "latency_ms": round(latency_ms, 2),
            "deadline_hit": deadline_hit,
            "fallback_cause": fallback_cause,
            "caller": mask_number(caller),
            "status": status,
        },
    )
