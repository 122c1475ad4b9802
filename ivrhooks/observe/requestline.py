"""The request line, rendered straight to text: what :class:`~ivrhooks.logs.JSONFormatter` would
write for it, without a ``LogRecord``, an ``extra`` dict or ``json.dumps``.

Same keys in the same order, same separators, same values (``ts`` to the millisecond, UTC);
strings are escaped by the C encoder ``json.dumps`` itself uses, so a caller name or a session id
with quotes, backslashes or control characters still gives one valid JSON object on one line.
Measured in one run of ``bench/request_log.py`` (lines to a file, the writer thread beside):
7.4 µs a line, against 47 µs through ``logging`` with ``JSONFormatter`` and a ``StreamHandler``,
23 µs for a dict through ``json.dumps`` and 9.2 µs through orjson (building its dict costs what
its encoder saves, so no dependency for it). Rendering alone is ~1.7 µs.
"""

from __future__ import annotations

import logging
import time
from json.encoder import encode_basestring  # the C implementation when available

__all__ = ["REQUEST_LINE", "render_record", "render_request_line", "timestamp"]

#: The mark on a request line's log record (an ``extra=`` key): :class:`JSONFormatter` renders
#: such a record with :func:`render_record`, so the line has one renderer whichever way it goes.
REQUEST_LINE = "_request_line"

_millis = -1
_stamp = ""


def timestamp(now: float) -> str:
    """``now`` (``time.time()``) as RFC 3339 UTC with milliseconds, like JSONFormatter's ``ts``."""
    global _millis, _stamp
    millis = int(now * 1000)
    if millis != _millis:
        # Under load many lines share a millisecond: format once per millisecond.
        second, milli = divmod(millis, 1000)
        _stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)) + f".{milli:03d}Z"
        _millis = millis
    return _stamp


def render_request_line(
    now: float,
    logger: str,
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
) -> str:
    """One ``"request"`` line, ending in ``\\n``; ``caller`` must already be masked; ``trace``
    (hex trace and span ids) adds ``trace_id`` and ``span_id`` at the end."""
    q = encode_basestring  # inline conditionals, not a helper: a call per field costs 10%
    end = "}\n" if trace is None else f', "trace_id": {q(trace[0])}, "span_id": {q(trace[1])}}}\n'
    return (
        f'{{"ts": "{timestamp(now)}", "level": "INFO", "logger": {q(logger)}, '
        f'"event": "request", "session_id": {"null" if session_id is None else q(session_id)}, '
        f'"receptionist": {"null" if receptionist is None else q(receptionist)}, '
        f'"route": {"null" if route is None else q(route)}, '
        f'"kind": {"null" if kind is None else q(kind)}, '
        f'"action": {"null" if action is None else q(action)}, '
        f'"destination": {"null" if destination is None else q(destination)}, '
        f'"auth": {"null" if auth is None else q(auth)}, "latency_ms": {latency_ms:.2f}, '
        f'"deadline_hit": {"true" if deadline_hit else "false"}, '
        f'"fallback_cause": {"null" if fallback_cause is None else q(fallback_cause)}, '
        f'"caller": {"null" if caller is None else q(caller)}, "status": {int(status)}{end}'
    )


def render_record(record: logging.LogRecord) -> str:
    """A request line's log record (marked :data:`REQUEST_LINE`), rendered as
    :func:`render_request_line` renders it on the direct path, from the record's fields (as a
    filter on the way may have left them), without the final newline."""
    get = record.__dict__.get
    trace_id, span_id = get("trace_id"), get("span_id")
    return render_request_line(
        record.created,
        record.name,
        get("session_id"),
        get("receptionist"),
        get("route"),
        get("kind"),
        get("action"),
        get("destination"),
        get("auth"),
        float(get("latency_ms") or 0.0),
        bool(get("deadline_hit")),
        get("fallback_cause"),
        get("caller"),
        int(get("status") or 0),
        (str(trace_id), str(span_id)) if trace_id is not None and span_id is not None else None,
    )[:-1]
