"""From a received body to a typed event, and the digest that recognises the same event again.

PortSIP posts each event as a JSON object (``webhook-notifications/README.md``), at least once
and in no promised order (``receiving-events-via-a-webhook.md``). It promises each event "a
unique UUID, that will persist if sent more than once", but no documented payload carries one
(``event-reference.md``) and no header is documented: so a repeat is recognised by its content,
:func:`event_digest`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable, Mapping
from typing import Any, Final, Literal

from ivrhooks.errors import InvalidArgumentError
from ivrhooks.events.base import UnknownEvent, common_fields
from ivrhooks.events.cdr import (
    TARGET_EVENTS,
    CallCDR,
    CallStart,
    CallUpdateInfo,
    TargetEvent,
    call_cdr,
    call_start,
    call_update_info,
    target_event,
)
from ivrhooks.events.extension import (
    EXTENSION_EVENTS,
    ExtensionEvent,
    extension_event,
    looks_like_extension,
)

__all__ = ["EVENT_KINDS", "Event", "EventKind", "event_digest", "parse_event"]

EventKind = Literal["cdr", "extension"]
"""Which of the tenant's two event URLs a body came to (``cdr_event``, ``extension_event``)."""
EVENT_KINDS: Final[tuple[str, ...]] = ("cdr", "extension")

Event = CallStart | CallUpdateInfo | TargetEvent | CallCDR | ExtensionEvent | UnknownEvent
"""Every event model :func:`parse_event` returns."""

_READERS: Final[dict[str, Callable[[Mapping[str, Any], str], Event]]] = {
    "call_start": call_start,
    "call_update_info": call_update_info,
    "call_cdr": call_cdr,
    **dict.fromkeys(TARGET_EVENTS, target_event),
    **dict.fromkeys(EXTENSION_EVENTS, extension_event),
}


def _kind(kind: str) -> EventKind:
    if kind not in EVENT_KINDS:
        raise InvalidArgumentError(f"kind: must be 'cdr' or 'extension', not {kind!r}")
    return kind  # type: ignore[return-value]  # checked just above


def _object(body: object) -> Mapping[str, Any]:
    if not isinstance(body, Mapping):
        raise InvalidArgumentError(
            f"an event body must be a JSON object, not {type(body).__name__} (PortSIP sends "
            "one object per request)"
        )
    return body


def parse_event(kind: EventKind, body: Mapping[str, Any], *, attempt: int = 1) -> Event:
    """The typed event for ``body``, received at the ``kind`` endpoint.

    The model is chosen by ``event_type`` (an event is what it says it is, whichever endpoint
    it came to); a type nobody documented, or no ``event_type``, is an :class:`UnknownEvent`,
    except that a body at the extension endpoint carrying an extension's fields is read as an
    :class:`ExtensionEvent` with ``type`` ``""``. Never raises for a JSON object; anything else
    (an array, a string) raises :class:`~ivrhooks.errors.InvalidArgumentError`, a
    ``ValueError`` the receiving side answers with 400.
    """
    kind = _kind(kind)
    found = _object(body)
    said = found.get("event_type")
    event_type = said.strip() if isinstance(said, str) else ""
    reader = _READERS.get(event_type)
    if reader is not None:
        event: Event = reader(found, event_type)
    elif not event_type and kind == "extension" and looks_like_extension(found):
        event = extension_event(found, "")
    else:
        event = UnknownEvent(**common_fields(found, event_type), kind=kind)
    return event if attempt == 1 else dataclasses.replace(event, attempt=attempt)


def event_digest(kind: EventKind, body: Mapping[str, Any]) -> str:
    """The sha256 (hex) of ``kind`` and ``body`` as canonical JSON (sorted keys, no
    whitespace, ASCII): the same event sent again has the same digest, however its keys were
    ordered or spaced. Two events with exactly the same content are one event by this measure,
    which for a receiver that must be idempotent is what they are."""
    canonical = json.dumps(
        {"kind": _kind(kind), "body": dict(_object(body))},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
        default=str,
    )
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()
