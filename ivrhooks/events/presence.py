"""One extension's availability, from whichever of PortSIP's three vocabularies says it.

The sources disagree (reference: portsip-events.md, "Presence vocabularies"):

- REST ``GET /users/{id}/status`` (OpenAPI ``openapi (5).json``): ``status`` ``ONLINE``,
  ``ON_CALL``, ``OFFLINE``; ``presence`` ``DO_NOT_DISTURB``, ``AVAILABLE``, ``AWAY``,
  ``BUSINESS_TRIP``, ``LUNCH``, ``ON_CALL``, ``OFFLINE``;
- the v22.3.0 REST changes (``summary-of-changes.md``): ``status`` gains ``OTHER_CALL`` and
  loses ``ON_CALL``; ``presence`` gains ``ONLINE``, ``OTHER_CALL``, ``RINGING`` and loses
  ``AVAILABLE`` and ``ON_CALL``;
- the WebSocket feed 22.3 (``going-real-time-with-portsip-pbx-pub-sub/version-22.3.md``):
  ``call_status`` ``ON_CALL``, ``RINGING`` or empty (one example reads ``"ON_ACLL"``), booleans
  ``online`` and ``push_online``, ``presence`` ``ONLINE``, ``LUNCH``, ``BUSINESS_TRIP``,
  ``DO_NOT_DISTURB``, ``AWAY`` (and its ``extension_presence`` example says ``AVAILABLE``).

All of them are read, leniently (case, spaces, hyphens), and nothing unknown ever reads as
``"available"``: a value this module does not know makes the answer ``None`` (not known)
unless a known value already says the extension cannot take a call.
"""

from __future__ import annotations

from typing import Any, Final, Literal

from ivrhooks.events.values import flag, word

__all__ = ["PRESENCES", "Presence", "normalize_presence"]

Presence = Literal["available", "busy", "ringing", "away", "dnd", "offline"]
"""Whether an extension can take a call now, in one vocabulary."""

PRESENCES: Final[tuple[str, ...]] = ("available", "busy", "ringing", "away", "dnd", "offline")

# status / call_status: the call state. ONLINE (REST) says registered and not in a call.
_CALL_STATES: Final[dict[str, Presence]] = {
    "ON_CALL": "busy",
    "ON_ACLL": "busy",  # the WebSocket page's extension_status example
    "OTHER_CALL": "busy",
    "IN_CALL": "busy",
    "BUSY": "busy",
    "RINGING": "ringing",
    "OFFLINE": "offline",
}
_IDLE: Final = frozenset({"ONLINE", "IDLE", "AVAILABLE", "READY"})

# presence: what the person set (or the PBX derived, after v22.3).
_PRESENCES: Final[dict[str, Presence]] = {
    "AVAILABLE": "available",
    "ONLINE": "available",
    "AWAY": "away",
    "LUNCH": "away",
    "BUSINESS_TRIP": "away",
    "BE_RIGHT_BACK": "away",
    "DO_NOT_DISTURB": "dnd",
    "DND": "dnd",
    "ON_CALL": "busy",
    "ON_ACLL": "busy",
    "OTHER_CALL": "busy",
    "BUSY": "busy",
    "RINGING": "ringing",
    "OFFLINE": "offline",
}


def normalize_presence(
    *,
    status: Any = None,
    call_status: Any = None,
    presence: Any = None,
    online: Any = None,
    push_online: Any = None,
) -> Presence | None:
    """What the given fields say together, or ``None`` when they say nothing known.

    In order: not registered (``online`` false) and not reachable by push (``push_online`` not
    true; the feed says it matters only when ``online`` is false) is ``"offline"``; a call state
    (``status`` or ``call_status``) of a call or ringing says ``"busy"``/``"ringing"`` whatever
    the presence; then ``presence``. ``"available"`` needs a known idle word (``presence``
    ``AVAILABLE``/``ONLINE``, ``status`` ``ONLINE``, or ``online`` true) and no unknown one. An
    empty ``call_status`` ("not in any call") alone says nothing: it does not say registered.
    """
    reachable = flag(online)
    if reachable is False and flag(push_online) is not True:
        return "offline"
    unknown = idle = False
    for value in (status, call_status):
        state = word(value)
        if state is None or state == "":
            continue
        if state in _CALL_STATES:
            return _CALL_STATES[state]
        if state in _IDLE:
            idle = True
        else:
            unknown = True
    said = word(presence)
    if said:
        found = _PRESENCES.get(said)
        if found is None:
            return None
        if found != "available":
            return found
        return None if unknown else "available"
    if unknown:
        return None
    return "available" if idle or reachable is True else None
