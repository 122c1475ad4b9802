"""Handing each stored event to the app's handlers (``@app.event``).

The inbox (:mod:`ivrhooks.events.inbox`) stores what the PBX sent and hands it out, retrying a
handler that raises and keeping an event that keeps failing as dead; this module turns a stored
body into its typed event (:func:`~ivrhooks.events.parse_event`), attaches the call's
routing decisions to CDR events, and calls every handler of its type and those of ``"*"``, in
declaration order. Handling is at least once (a retry, or a replica dying mid-way, runs a
handler again): handlers see ``event.attempt`` and should be idempotent.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, Protocol, cast

from ivrhooks.events.cdr import TARGET_EVENTS, CallCDR, CallStart, CallUpdateInfo, TargetEvent
from ivrhooks.events.extension import EXTENSION_EVENTS
from ivrhooks.events.parse import EventKind, parse_event

if TYPE_CHECKING:
    from ivrhooks.events.decisions import DecisionLog

__all__ = ["ALL", "CDR_TYPES", "EXTENSION_TYPES", "Dispatcher", "EventHandler", "known_type"]

log = logging.getLogger("ivrhooks.events")

#: Every event type: handlers of ``"*"`` get them all.
ALL: Final = "*"
#: PortSIP's CDR events (event-reference.md).
CDR_TYPES: Final = ("call_start", "call_update_info", *TARGET_EVENTS, "call_cdr")
#: Extension events, named as PortSIP's WebSocket feed names them (the webhook's payloads are
#: documented only there: assumed the same).
EXTENSION_TYPES: Final = EXTENSION_EVENTS

EventHandler = Callable[[Any], Awaitable[Any]]
"""``async def (event)``, bound to its resources."""

_DECIDED = (CallStart, CallUpdateInfo, TargetEvent, CallCDR)


def known_type(name: str) -> bool:
    return name == ALL or name in CDR_TYPES or name in EXTENSION_TYPES


class Delivered(Protocol):
    """What the inbox hands out (:class:`ivrhooks.events.inbox.Delivery`)."""

    @property
    def kind(self) -> str: ...

    @property
    def body(self) -> dict[str, Any]: ...

    @property
    def attempt(self) -> int: ...


class Dispatcher:
    """Calls the handlers of each delivered event."""

    def __init__(
        self,
        handlers: Mapping[str, Sequence[EventHandler]],
        *,
        decisions: DecisionLog | None = None,
        report: Callable[[str], None] | None = None,
    ) -> None:
        self.handlers = {name: tuple(found) for name, found in handlers.items()}
        self.decisions = decisions
        self._report = report
        self._unknown: set[str] = set()

    async def __call__(self, delivery: Delivered) -> None:
        event = parse_event(
            cast("EventKind", delivery.kind), delivery.body, attempt=delivery.attempt
        )
        kind = event.type
        # A handler declared for the type and for "*" runs once.
        handlers = tuple(dict.fromkeys((*self.handlers.get(kind, ()), *self.handlers.get(ALL, ()))))
        # "*" names every type in @app.event; as a type a body says, it is one nobody documents.
        if kind == ALL or not known_type(kind):
            if self._report is not None:
                self._report("unknown_type")
            if kind not in self._unknown and len(self._unknown) < 100:
                self._unknown.add(kind)  # said once per type: PortSIP adds types over time
                log.warning("an event of a type ivrhooks does not know arrived: %r", kind[:64])
        if not handlers:
            return
        session_id = getattr(event, "session_id", None)
        if self.decisions is not None and isinstance(event, _DECIDED) and session_id:
            event = dataclasses.replace(event, decisions=await self.decisions.of(session_id))
        for handler in handlers:
            await handler(event)  # what it raises goes back to the inbox: retried, then dead
