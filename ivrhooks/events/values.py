"""Reading one field of an event body, whatever shape PortSIP gave it.

PortSIP's event reference (``development-portsip/webhook-notifications/event-reference.md``)
is loose about types: in its one ``call_cdr`` example ``status_code`` is ``"0"`` at the top and
``0`` in the targets, ``talk_duration`` ``21`` at the top and ``"7"`` in the targets, and every
time a Unix timestamp "in string format". So each reader here takes a string, an integer or a
float and answers ``None`` for anything it cannot read, never an exception: a field that does
not parse is a field not given (the body's ``raw`` still holds it).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Final, Literal

__all__ = [
    "DIRECTIONS",
    "Direction",
    "first",
    "flag",
    "integer",
    "items",
    "number",
    "reason",
    "sip_user",
    "text",
    "timestamp",
    "to_direction",
    "word",
]

Direction = Literal["internal", "inbound", "outbound", "inbound_outbound"]
"""A call's direction in one vocabulary, the one most event tables use."""

DIRECTIONS: Final[tuple[str, ...]] = ("internal", "inbound", "outbound", "inbound_outbound")

# The call_cdr table lists ext | in | in2out | out; the other tables (and the call_cdr example
# since commit d4cf051) internal | inbound | inbound_outbound | outbound. Both mean the same four.
_DIRECTION_WORDS: Final[dict[str, Direction]] = {
    "ext": "internal",
    "internal": "internal",
    "in": "inbound",
    "inbound": "inbound",
    "in2out": "inbound_outbound",
    "inbound_outbound": "inbound_outbound",
    "out": "outbound",
    "outbound": "outbound",
}

# The example's ``callee_disconnect`` is the table's ``callee_disconnected`` (and its caller twin).
_REASON_SPELLINGS: Final = {
    "callee_disconnect": "callee_disconnected",
    "caller_disconnect": "caller_disconnected",
}


def text(value: Any) -> str | None:
    """A string field: strings as given (blank: ``None``), integers as their digits (ids and
    numbers may come either way), anything else ``None``."""
    if isinstance(value, str):
        return value if value.strip() else None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def number(value: Any) -> float | None:
    """A number given as an integer, a float or a numeric string; ``None`` otherwise (booleans,
    NaN and infinities too: no PortSIP field means them)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return float(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str) and value.strip() and len(value) <= 64:
        try:
            parsed = float(value.strip())
        except ValueError:
            return None
        return parsed if math.isfinite(parsed) else None
    return None


def integer(value: Any) -> int | None:
    """An integer (a SIP status code): ``486``, ``"486"``, ``486.0``; ``None`` otherwise."""
    parsed = number(value)
    if parsed is None or not parsed.is_integer():
        return None
    return int(parsed)


def timestamp(value: Any) -> float | None:
    """Unix seconds (PortSIP sends them as strings). ``0`` and blanks are "not yet": a call that
    was never answered has no answer time, and no PortSIP event happened in 1970."""
    parsed = number(value)
    return parsed if parsed is not None and parsed > 0 else None


def flag(value: Any) -> bool | None:
    """A boolean given as ``true``/``false``, ``"true"``/``"false"`` or ``1``/``0``."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        return {"true": True, "false": False, "1": True, "0": False}.get(value.strip().lower())
    return None


def word(value: Any) -> str | None:
    """A vocabulary value, compared leniently: stripped, upper case, spaces and hyphens as
    underscores (``"Do not disturb"`` reads as ``DO_NOT_DISTURB``). An empty string stays empty:
    PortSIP's ``call_status`` says "not in a call" with it."""
    if not isinstance(value, str):
        return None
    return "_".join(value.strip().upper().replace("-", " ").split())


def to_direction(value: Any) -> Direction | None:
    """``direction`` in one vocabulary (either documented one is read); unknown: ``None``."""
    if not isinstance(value, str):
        return None
    return _DIRECTION_WORDS.get(value.strip().lower())


def reason(value: Any) -> str | None:
    """An end reason: ``"None"`` (PortSIP's "unknown reason") and blanks are ``None``; the
    example's ``callee_disconnect`` reads as the documented ``callee_disconnected``."""
    found = text(value)
    if found is None or found.strip().lower() == "none":
        return None
    found = found.strip()
    return _REASON_SPELLINGS.get(found, found)


def sip_user(value: Any) -> str | None:
    """The number in a SIP URI (``sip:102@192.168.0.18:5066`` -> ``102``), or the value itself
    when it is a plain number already; ``None`` for anything else."""
    found = text(value)
    if found is None:
        return None
    found = found.strip()
    if found[:5].lower() == "sips:":
        found = found[5:]
    elif found[:4].lower() == "sip:":
        found = found[4:]
    user = found.split("@", 1)[0].split(";", 1)[0]
    return user or None


def first(body: Mapping[str, Any], *names: str) -> Any:
    """The first of ``names`` that ``body`` carries (PortSIP spells some fields two ways:
    ``ended_reason``/``end_reason``, ``destiantion``/``destination``, ``cdr_id``/``id``)."""
    for name in names:
        value = body.get(name)
        if value is not None:
            return value
    return None


def items(value: Any) -> list[Mapping[str, Any]]:
    """The objects of a JSON array (``call_targets``, ``status``); anything else is skipped."""
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, Mapping)]
