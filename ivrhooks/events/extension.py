"""The extension events: call state, presence, registration and queue-agent status.

PortSIP's webhook pages list what the extension events cover ("extension call status, presence
status, online/offline status, queue status updates",
``development-portsip/webhook-notifications/registering-a-webhook.md``) but document no payload.
The only documented shapes are the WebSocket feed's
(``development-portsip/going-real-time-with-portsip-pbx-pub-sub/version-22.3.md``), which name
their message in ``event_type``:

- ``extension_status``: ``status[]`` of ``{extension, extension_id, call_status, online,
  presence, presence_note, push_online, time}`` (the extension's state after a subscription,
  and when it goes online or offline);
- ``extension_call``: ``extension``, ``call_status``; ``extension_presence``: ``extension``,
  ``presence``, ``presence_note``; ``extension_agent_status``: ``extension``,
  ``agent_status[]`` of ``{queue_number, status}``; each with ``extension_id``, ``tenant_id``
  and ``time``.

**Assumed, unverified on a live PBX:** the extension webhook posts these same objects, one per
request, with the message name in ``event_type``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from ivrhooks.events.base import Common, common_fields
from ivrhooks.events.presence import Presence, normalize_presence
from ivrhooks.events.values import first, flag, items, sip_user, text, timestamp

__all__ = [
    "EXTENSION_EVENTS",
    "AgentStatus",
    "ExtensionEvent",
    "ExtensionState",
    "extension_event",
    "looks_like_extension",
]

#: The extension message types the WebSocket feed documents.
EXTENSION_EVENTS: Final = (
    "extension_status",
    "extension_call",
    "extension_presence",
    "extension_agent_status",
)

# Fields that only extension messages carry: a body with no event_type but one of these, sent
# to the extension endpoint, is read as an extension event rather than an unknown one.
_EXTENSION_FIELDS: Final = ("extension", "extension_number", "status", "presence", "call_status")


def _call_status(value: Any) -> str | None:
    # Kept as sent, an empty string included: the feed's "not in any call".
    return value.strip() if isinstance(value, str) else None


@dataclass(frozen=True, kw_only=True)
class AgentStatus:
    """An agent's status in one queue (``extension_agent_status``), as sent (``READY``...)."""

    queue_number: str | None
    status: str | None


@dataclass(frozen=True, kw_only=True)
class ExtensionState:
    """One extension's state as one message says it. ``extension``: the number (out of the SIP
    URI the feed sends, ``sip:101@test.io``); ``extension_uri``: what was sent. ``call_status``
    is ``""`` for "not in any call"; a field a message does not carry is ``None``."""

    raw: Mapping[str, Any] = field(repr=False, compare=False)
    extension: str | None = None
    extension_uri: str | None = None
    extension_id: str | None = None
    call_status: str | None = None
    online: bool | None = None
    push_online: bool | None = None
    presence: str | None = None
    presence_note: str | None = None
    time: float | None = None

    @property
    def availability(self) -> Presence | None:
        """What this message alone says of the extension (:func:`normalize_presence`)."""
        return normalize_presence(
            call_status=self.call_status,
            presence=self.presence,
            online=self.online,
            push_online=self.push_online,
        )


@dataclass(frozen=True, kw_only=True)
class ExtensionEvent(Common):
    """An extension message. ``states`` holds one :class:`ExtensionState` per extension it
    speaks of (``extension_status`` may list several); when it speaks of one, its fields are also
    here at the top. ``agent_status`` for ``extension_agent_status``."""

    extension: str | None = None
    extension_uri: str | None = None
    extension_id: str | None = None
    call_status: str | None = None
    online: bool | None = None
    push_online: bool | None = None
    presence: str | None = None
    presence_note: str | None = None
    agent_status: tuple[AgentStatus, ...] = ()
    states: tuple[ExtensionState, ...] = ()

    @property
    def availability(self) -> Presence | None:
        """What this message alone says of its one extension (``None`` for several)."""
        return self.states[0].availability if len(self.states) == 1 else None


def _state(body: Mapping[str, Any], fallback_time: float | None) -> ExtensionState:
    uri = text(first(body, "extension", "extension_number"))
    return ExtensionState(
        raw=dict(body),
        extension=sip_user(uri),
        extension_uri=uri,
        extension_id=text(body.get("extension_id")),
        call_status=_call_status(body.get("call_status")),
        online=flag(body.get("online")),
        push_online=flag(body.get("push_online")),
        presence=text(body.get("presence")),
        presence_note=text(body.get("presence_note")),
        time=timestamp(body.get("time")) or fallback_time,
    )


def looks_like_extension(body: Mapping[str, Any]) -> bool:
    """Whether a body without ``event_type`` carries an extension message's fields."""
    return any(name in body for name in _EXTENSION_FIELDS)


def extension_event(body: Mapping[str, Any], event_type: str) -> ExtensionEvent:
    fields = common_fields(body, event_type)
    listed = items(body.get("status"))
    if listed:
        states = tuple(_state(entry, fields["time"]) for entry in listed)
    elif first(body, "extension", "extension_number") is not None:
        states = (_state(body, fields["time"]),)
    else:
        states = ()
    if len(states) == 1:
        one = states[0]
        fields.update(
            extension=one.extension,
            extension_uri=one.extension_uri,
            extension_id=one.extension_id,
            call_status=one.call_status,
            online=one.online,
            push_online=one.push_online,
            presence=one.presence,
            presence_note=one.presence_note,
        )
        if fields["time"] is None:
            fields["time"] = one.time
    agents = tuple(
        AgentStatus(queue_number=text(entry.get("queue_number")), status=text(entry.get("status")))
        for entry in items(body.get("agent_status"))
    )
    return ExtensionEvent(**fields, agent_status=agents, states=states)
