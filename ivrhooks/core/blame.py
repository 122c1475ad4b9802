"""Where in the user's code a handler went wrong: ``file:line``, for logs and the dev tools.

A traceback through a handler passes through ivrhooks, the user's code and the libraries it
calls; the line worth showing is the user's: the innermost frame that is neither ivrhooks' own
nor the standard library's or an installed package's. When there is none (a handler that
returned something that is not a decision raised nothing itself), the handler's ``def`` line.
"""

from __future__ import annotations

import linecache
import os
import sysconfig
import traceback
from types import TracebackType
from typing import Any

__all__ = ["handler_location", "user_location"]

_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep
_LIBRARIES = tuple(
    os.path.abspath(p) + os.sep
    for p in {sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib", "purelib", "platlib")}
)


def _shown(filename: str, line: int | None) -> str:
    path = os.path.abspath(filename)
    try:
        relative = os.path.relpath(path)
    except ValueError:  # another drive (Windows)
        relative = path
    return f"{path if relative.startswith('..') else relative}:{line}"


def _is_user_file(filename: str) -> bool:
    path = os.path.abspath(filename)
    return not path.startswith(_PACKAGE) and not path.startswith(_LIBRARIES) and "<" not in path


def user_location(tb: TracebackType | None) -> str | None:
    """The innermost ``file:line`` of the user's code in ``tb``, or ``None``."""
    found = None
    for frame in traceback.extract_tb(tb):
        if _is_user_file(frame.filename):
            found = _shown(frame.filename, frame.lineno)
    return found


def handler_location(handler: Any) -> str | None:
    """Where ``handler`` is defined (``file:line`` of its ``def``), or ``None``."""
    # A function, or an object whose __call__ is the handler.
    code = getattr(handler, "__code__", None)
    if code is None:
        code = getattr(type(handler).__dict__.get("__call__"), "__code__", None)
    if code is None:
        return None
    # co_firstlineno is the first decorator's line; the user looks for the ``def``.
    line = code.co_firstlineno
    for offset in range(32):
        text = linecache.getline(code.co_filename, line + offset).lstrip()
        if text.startswith(("def ", "async def ")):
            line += offset
            break
    return _shown(code.co_filename, line)
