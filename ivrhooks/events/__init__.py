"""PortSIP's event webhooks, read: typed, tolerant models of the CDR and extension events.

PortSIP posts each tenant's events to two URLs of its choosing (Company -> Event URL; REST
``/tenant``'s ``cdr_event`` and ``extension_event``): always a JSON object, at least once, in no
promised order. :func:`parse_event` turns a body into one of the models below (never raising for
a JSON object), :func:`event_digest` recognises a repeat by its content, and
:func:`normalize_presence` reads an extension's availability from any of PortSIP's three
vocabularies. Standard library only: cheap enough for the receiving endpoint's hot path.
The inbox that stores events between that endpoint and the app's ``@app.event`` handlers is
:mod:`ivrhooks.events.inbox` (docs/events.md).

What is documented and what is assumed is said where each model is defined; the sources are
PortSIP's knowledge base (``development-portsip/webhook-notifications/event-reference.md`` and
``going-real-time-with-portsip-pbx-pub-sub/version-22.3.md``).
"""

from __future__ import annotations

from ivrhooks.events.base import RecordedDecision, UnknownEvent
from ivrhooks.events.cdr import (
    CALL_STATUSES,
    TARGET_EVENTS,
    CallCDR,
    CallStart,
    CallStatus,
    CallTarget,
    CallUpdateInfo,
    TargetEvent,
    TargetStatus,
)
from ivrhooks.events.extension import (
    EXTENSION_EVENTS,
    AgentStatus,
    ExtensionEvent,
    ExtensionState,
)
from ivrhooks.events.parse import EVENT_KINDS, Event, EventKind, event_digest, parse_event
from ivrhooks.events.presence import PRESENCES, Presence, normalize_presence
from ivrhooks.events.values import DIRECTIONS, Direction, to_direction

__all__ = [
    "CALL_STATUSES",
    "DIRECTIONS",
    "EVENT_KINDS",
    "EXTENSION_EVENTS",
    "PRESENCES",
    "TARGET_EVENTS",
    "AgentStatus",
    "CallCDR",
    "CallStart",
    "CallStatus",
    "CallTarget",
    "CallUpdateInfo",
    "Direction",
    "Event",
    "EventKind",
    "ExtensionEvent",
    "ExtensionState",
    "Presence",
    "RecordedDecision",
    "TargetEvent",
    "TargetStatus",
    "UnknownEvent",
    "event_digest",
    "normalize_presence",
    "parse_event",
    "to_direction",
]
