"""Structured logs: one JSON object per line, caller numbers masked, one line per request.

Plain stdlib :mod:`logging` underneath, so libraries and operators keep their usual tools.
What this module adds is the shape of a line (:class:`JSONFormatter`), a one-call setup for
the CLI (:func:`configure_logging`) and the request line the receiver writes on the hot path
(:func:`log_request`).

``ivrhooks run`` sets logging up *buffered*: every line goes to stderr through a writer thread
(:mod:`ivrhooks.logwriter`), so a slow stderr never stalls the event loop, and the request line,
when nothing but that writer would see its record, is rendered straight to text
(:mod:`ivrhooks.requestline`) instead of going through a ``LogRecord`` and ``json.dumps``: the
same JSON object, at a sixth of the cost. The logger ``ivrhooks.request`` still decides: at a
level above INFO, or disabled, there is no line; with a handler or filter of its own (or another
handler on the root logger), the line goes through stdlib logging as before.

Privacy: GET action URLs carry the caller's number in the query string (PortSIP admin guide,
"Action URL"), and caller numbers are personal data. So caller numbers are masked by default,
uvicorn's access log loses its query strings, and httpx's per-request INFO lines (which show
URLs such as a CRM's ``/customers/<number>``) are turned down to WARNING.
"""

from __future__ import annotations

import logging
import sys
import time
from typing import TextIO

from ivrhooks.errors import ConfigurationError, InvalidArgumentError
from ivrhooks.observe.logformat import JSONFormatter, TextFormatter
from ivrhooks.observe.logwriter import LineWriter, WriterHandler
from ivrhooks.observe.requestline import REQUEST_LINE, render_request_line

__all__ = [
    "JSONFormatter",
    "TextFormatter",
    "close_logging",
    "configure_logging",
    "ensure_request_logging",
    "flush_logging",
    "log_request",
    "mask_number",
    "number_masking_enabled",
    "set_number_masking",
]

_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

# Loggers whose INFO lines would carry caller numbers in URLs: httpx logs every request URL.
_CHATTY_URL_LOGGERS = ("httpx", "httpcore")
_ACCESS_LOGGER = "uvicorn.access"
# uvicorn's own logging config gives these handlers of their own and stops propagation.
_UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", _ACCESS_LOGGER)


class _Handler(logging.StreamHandler[TextIO]):
    """Marks the handler configure_logging installed, so a second call replaces it."""


class _BufferedHandler(WriterHandler):
    """The same mark on the buffered handler (``configure_logging(buffered=True)``)."""


# The buffered handler configure_logging installed, if any: the request line's shortcut.
_direct: _BufferedHandler | None = None


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


def configure_logging(
    level: str = "INFO",
    json: bool = True,
    stream: TextIO | None = None,
    *,
    buffered: bool = False,
) -> None:
    """Send all logs to ``stream`` (default stderr) as JSON lines, or as text when ``json=False``.

    ``buffered=True`` (what ``ivrhooks run`` uses) writes through a writer thread with a bounded
    buffer (:mod:`ivrhooks.logwriter`: flushed every 0.05 s, at once for WARNING and worse,
    completely by :func:`close_logging` or at exit); lines that would overflow it are dropped and
    counted instead of blocking the caller. Without it every line is written and flushed by the
    thread that logs it, as a ``StreamHandler`` does.

    Idempotent: calling again replaces the handler installed before. Also strips query strings
    from uvicorn's access log and raises httpx's loggers to WARNING (see the module docstring),
    and points uvicorn's loggers back at the root logger. Run uvicorn with ``log_config=None``
    afterwards, or its own logging config takes them over again.
    """
    global _direct, _checked
    name = str(level).upper()
    if name not in _LEVELS:
        raise ConfigurationError(f"log level {level!r} is not one of {', '.join(_LEVELS)}")
    close_logging()
    _checked = (None, -1, False)
    target = stream if stream is not None else sys.stderr
    handler: logging.Handler
    if buffered:
        handler = _direct = _BufferedHandler(LineWriter(target))
    else:
        handler = _Handler(target)
    handler.setFormatter(JSONFormatter() if json else TextFormatter())
    if not json:
        _direct = None  # the shortcut renders JSON only
    root = logging.getLogger()
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


def flush_logging() -> None:
    """Write every line the buffered handler holds now (waits at most 2 s for a slow stream)."""
    direct = _direct
    if direct is not None:
        direct.writer.flush(direct.writer.close_timeout)


def close_logging() -> None:
    """Remove the handler :func:`configure_logging` installed, writing every line it buffered."""
    global _direct
    _direct = None
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _Handler | _BufferedHandler)]:
        root.removeHandler(old)
        old.close()


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


def _masked(number: str | None) -> str | None:
    # mask_number(number) for the request line, a third of the cost for the usual lengths.
    if number is None or not _masking:
        return number
    length = len(number)
    if length >= 7:
        return number[:2] + "*" * (length - 4) + number[-2:]
    return mask_number(number)


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
    trace: tuple[str, str] | None = None,
) -> None:
    """Write the one ``"request"`` line for an action-URL request, at INFO, caller masked.

    ``trace``: the request span's trace and span ids (hex), written last as ``trace_id`` and
    ``span_id`` when given (tracing on), so the line finds its trace and the trace its line.

    On the hot path: when the logger would drop INFO, this returns before building anything;
    when only the buffered handler would see the record, the line is rendered straight to text
    and queued on its writer (see the module docstring).
    """
    if not logger.isEnabledFor(logging.INFO):
        return
    direct = _direct
    now = time.time()
    if direct is not None and _direct_path(logger, direct, int(now)):
        direct.writer.write(
            render_request_line(
                now,
                logger.name,
                session_id,
                receptionist,
                route,
                kind,
                action,
                destination,
                auth,
                latency_ms,
                deadline_hit,
                fallback_cause,
                _masked(caller),
                status,
                trace,
            )
        )
        return
    # Through stdlib logging (an operator's own handler or filter sees the fields as record
    # attributes); JSONFormatter writes it with the same renderer (REQUEST_LINE marks it).
    extra = {
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
        REQUEST_LINE: True,
    }
    if trace is not None:
        extra["trace_id"], extra["span_id"] = trace
    logger.info("request", extra=extra)


# Whether the request logger's records reach only the buffered handler: walking the logger
# chain costs a sixth of the line, so the answer is kept for the second it was found in (a
# handler or filter added while serving takes effect within a second).
_checked: tuple[logging.Logger | None, int, bool] = (None, -1, False)


def _direct_path(logger: logging.Logger, handler: logging.Handler, second: int) -> bool:
    global _checked
    known, when, answer = _checked
    if known is not logger or when != second:
        answer = _only_reaches(logger, handler)
        _checked = (logger, second, answer)
    return answer


def _only_reaches(logger: logging.Logger, handler: logging.Handler) -> bool:
    """Whether a record of ``logger`` at INFO would reach ``handler`` and nothing else, with
    nothing on the way to filter or change it (what stdlib logging would do, checked cheaply)."""
    if logger.filters or handler.filters or handler.level > logging.INFO:
        return False
    found = False
    current: logging.Logger | None = logger
    while current is not None:
        for other in current.handlers:
            if other is not handler:
                return False
            found = True
        if not current.propagate:
            break
        current = current.parent
    return found
