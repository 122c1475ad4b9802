"""What a cache holds: JSON values only, kept as their JSON text.

A loader's value is checked once, when it is loaded: ``dict`` (``str`` keys), ``list``, ``str``,
``int``, ``float`` (finite), ``bool`` or ``None``, nested. Anything else (a ``set``, a
``datetime``, a model object, a ``tuple`` that JSON would quietly turn into a list, a ``dict``
with ``int`` keys that JSON would quietly turn into strings) is refused with an error naming
the cache, the key's type and where in the value the offending type sits, and nothing is
stored. Never pickle: a value in the shared tier is read by every replica, and unpickling
what another process wrote runs its code.

Each hit decodes the stored text afresh, so a handler that changes what it got (``managers
.append(...)``) changes its own copy, never the cache's.
"""

from __future__ import annotations

import json
import math
from typing import Any, TypeAlias

from ivrhooks.errors import InvalidArgumentError

__all__ = ["JSON", "decode", "dumps", "encode"]

JSON: TypeAlias = "dict[str, JSON] | list[JSON] | str | int | float | bool | None"
"""A JSON value, as :func:`json.loads` returns it."""

_SCALARS = (str, bool, int, type(None))

dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode
"""JSON text of a value known to be JSON (compact, as the shared tier stores it)."""
decode = json.loads


def _offender(value: Any, where: str) -> tuple[str, str] | None:
    """Where in ``value`` the first non-JSON part is, and its type; ``None`` when it is JSON."""
    kind = type(value)
    if kind in _SCALARS:  # exact types: a str or int subclass is not what JSON gives back
        return None
    if kind is float:
        return None if math.isfinite(value) else (where, f"float {value!r}")
    if kind is list:
        for index, item in enumerate(value):
            found = _offender(item, f"{where}[{index}]")
            if found is not None:
                return found
        return None
    if kind is dict:
        for name, item in value.items():
            if type(name) is not str:
                return f"a key of {where}", type(name).__name__
            # Field names are shown; a key that is data (a caller's number) is not.
            found = _offender(item, f"{where}[{name!r}]" if name.isidentifier() else f"{where}[…]")
            if found is not None:
                return found
        return None
    return where, kind.__name__


def encode(value: Any, *, cache: str, key: object) -> str:
    """The JSON text of ``value``; :class:`InvalidArgumentError` when it is not a JSON value.

    The message names the cache and the key's type, not the key: keys are often callers'
    numbers, which are never logged in full."""
    found = _offender(value, "value")
    if found is not None:
        where, kind = found
        raise InvalidArgumentError(
            f"cache {cache!r}: the loader for a {type(key).__name__} key returned a {kind} "
            f"at {where}; a cache holds JSON values only (dict with str keys, list, str, int, "
            "finite float, bool, None): convert it in the loader (e.g. a datetime to "
            "isoformat(), a model to a dict)"
        )
    return dumps(value)
