"""An exception in a log line by its type and stack, never its message.

A handler's exception message may well name the caller (``no account for 5551234``), and log
lines outlive calls. :func:`log_exception` logs a record whose ``exc_text`` is
:func:`format_stack`'s text: every ``logging`` formatter prints ``exc_text`` where it would print
a traceback (the standard one, ivrhooks' JSON and text ones), so the message stays out whichever
formatter the application configured. Spans follow the same rule (``ivrhooks.observe.otel``).
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Mapping
from typing import Any

__all__ = ["exception_type", "format_stack", "log_exception"]

_CAUSE = "\nThe above exception was the direct cause of the following exception:\n\n"
_CONTEXT = "\nDuring handling of the above exception, another exception occurred:\n\n"


def exception_type(exc: BaseException) -> str:
    """Its class's qualified name; the module too, unless a builtin (``myapp.crm.CRMDown``)."""
    cls = type(exc)
    module = cls.__module__
    return cls.__qualname__ if module == "builtins" else f"{module}.{cls.__qualname__}"


def format_stack(exc: BaseException) -> str:
    """The traceback of ``exc`` as Python prints it, chained exceptions included, but each
    exception's last line is its type alone: no message, no notes."""
    blocks: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None:
        seen.add(id(current))
        frames = "".join(traceback.format_tb(current.__traceback__))
        head = "Traceback (most recent call last):\n" if frames else ""
        blocks.append(f"{head}{frames}{exception_type(current)}\n")
        if current.__cause__ is not None:
            current, link = current.__cause__, _CAUSE
        elif current.__context__ is not None and not current.__suppress_context__:
            current, link = current.__context__, _CONTEXT
        else:
            break
        if id(current) in seen:
            break  # a cycle in the chain (Python's printer stops there too)
        blocks.append(link)
    return "".join(reversed(blocks)).rstrip("\n")


def log_exception(
    logger: logging.Logger, msg: str, *args: object, exc: BaseException, extra: Mapping[str, Any]
) -> None:
    """``logger.error(msg, *args, extra=extra)`` with ``exc``'s type and stack and without its
    message (:func:`format_stack`), where ``logger.exception`` would print all three."""
    if not logger.isEnabledFor(logging.ERROR):
        return
    filename, line, function, _ = logger.findCaller(stacklevel=2)
    record = logger.makeRecord(
        logger.name, logging.ERROR, filename, line, msg, args, None, function, extra
    )
    record.exc_text = format_stack(exc)
    logger.handle(record)
