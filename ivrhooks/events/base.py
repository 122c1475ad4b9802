"""What every event carries, the routing decision the receiving side attaches, and the event of
a type nobody documented.

PortSIP's event reference gives every CDR event ``event_type``, ``time``, ``session_id``,
``tenant_id``, ``direction``, ``did`` and ``outbound_caller_id``; the WebSocket feed's extension
messages carry ``event_type``, ``tenant_id`` and ``time`` (the others are ``None`` there).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ivrhooks.events.values import Direction, text, timestamp, to_direction

__all__ = ["Common", "RecordedDecision", "UnknownEvent", "common_fields"]


@dataclass(frozen=True, kw_only=True)
class RecordedDecision:
    """A routing decision this app made for the call, as the receiving side attaches it to the
    call's events (by ``session_id``; whether the action URLs' ``session_id`` equals the CDR's is
    unverified on a real PBX).

    ``route``: the route that answered (``None``: no route took the request); ``action``:
    ``call``, ``hangup`` or ``repeat``; ``destination``: where ``call`` sent it; ``cause``: why the
    fallback answered (``None``: the handler decided); ``at``: when, in Unix seconds;
    ``receptionist``: the receptionist's extension number the request came from.
    """

    route: str | None
    action: str
    at: float
    destination: str | None = None
    cause: str | None = None
    receptionist: str | None = None


@dataclass(frozen=True, kw_only=True)
class Common:
    """The fields every event model has.

    ``type``: the body's ``event_type`` as sent (for extension events the WebSocket message
    name, assuming the webhook sends the feed's objects: unverified). ``time``: Unix seconds
    (PortSIP's tables say "the call start time" for every type, evidently copied from row to
    row: what target events put there is unverified). ``direction``: one vocabulary
    (:data:`~ivrhooks.events.values.Direction`) whichever of the two documented ones was sent;
    ``raw["direction"]`` keeps what was sent. ``raw``: the whole body, as received (a shallow
    copy), every field the model does not read included. ``attempt``: how many times the
    receiving side has seen this event (PortSIP sends "at least once"; the receiver counts).
    """

    type: str
    raw: Mapping[str, Any] = field(repr=False, compare=False)
    time: float | None = None
    session_id: str | None = None
    tenant_id: str | None = None
    direction: Direction | None = None
    did: str | None = None
    outbound_caller_id: str | None = None
    attempt: int = 1


def common_fields(body: Mapping[str, Any], event_type: str) -> dict[str, Any]:
    """The :class:`Common` fields of ``body``, as keyword arguments."""
    return {
        "type": event_type,
        "raw": dict(body),
        "time": timestamp(body.get("time")),
        "session_id": text(body.get("session_id")),
        "tenant_id": text(body.get("tenant_id")),
        "direction": to_direction(body.get("direction")),
        "did": text(body.get("did")),
        "outbound_caller_id": text(body.get("outbound_caller_id")),
    }


@dataclass(frozen=True, kw_only=True)
class UnknownEvent(Common):
    """An event whose ``event_type`` this version does not model (PortSIP adds types without
    notice: "gracefully handle new fields"), or a body with no ``event_type`` at all (``type``
    is then ``""``). Everything is in ``raw``; ``kind`` says which endpoint it came to."""

    kind: str = "cdr"
