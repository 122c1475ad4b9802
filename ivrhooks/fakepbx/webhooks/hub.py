"""The fake PBX's event side: its tenant and event URLs, its extensions, and after each call the
outcome it decides (at once) and the events it sends (in the background)."""

from __future__ import annotations

import dataclasses
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ivrhooks.events import EventKind
from ivrhooks.fakepbx.dial import DialResult
from ivrhooks.fakepbx.webhooks.delivery import EventSender
from ivrhooks.fakepbx.webhooks.faults import EventFaults
from ivrhooks.fakepbx.webhooks.outcome import (
    Answering,
    CallOutcome,
    Extension,
    call_legs,
    extensions_of,
)
from ivrhooks.fakepbx.webhooks.payloads import CallFacts, call_events, extension_id
from ivrhooks.fakepbx.webhooks.payloads import extension_message as message
from ivrhooks.fakepbx.webhooks.tenant import default_tenant, event_url_settings
from ivrhooks.schema.tenant import EVENT_FIELDS, EventUrl

__all__ = ["DOMAIN", "Webhooks"]

#: The fake tenant's SIP domain (a reserved name: it resolves nowhere).
DOMAIN = "fakepbx.test"
#: Outcomes kept for ``/_fake/dial`` to answer with (the newest ones).
_KEPT = 1000


class Webhooks:
    """What ``FakePBX`` delegates its events to."""

    def __init__(
        self,
        *,
        extensions: Mapping[str, str | Extension] | None,
        faults: EventFaults,
        retry_waits: Sequence[float],
        refusal: Callable[[str], str | None],
    ) -> None:
        self.tenant: dict[str, Any] = default_tenant(DOMAIN)
        self.extensions = extensions_of(extensions)
        self.presences: dict[str, tuple[str, str]] = {}
        self.sender = EventSender(faults=faults, retry_waits=retry_waits, refusal=refusal)
        self._outcomes: OrderedDict[str, CallOutcome] = OrderedDict()

    def urls(self) -> dict[EventKind, EventUrl]:
        """The tenant's enabled event URLs, by kind, as they are now."""
        found: dict[EventKind, EventUrl] = {}
        for kind, field in EVENT_FIELDS.items():
            url = EventUrl.model_validate(self.tenant.get(field) or {})
            if url.enabled and url.url:
                found[kind] = url  # type: ignore[index]  # EVENT_FIELDS' keys are the kinds
        return found

    def set_url(self, kind: EventKind, **fields: Any) -> None:
        """Set the tenant's ``kind`` event URL, checked as ``POST /tenant`` checks it."""
        self.tenant[EVENT_FIELDS[kind]] = event_url_settings(fields, EVENT_FIELDS[kind])

    def outcome(self, session_id: str) -> CallOutcome | None:
        return self._outcomes.get(session_id)

    def call_ended(
        self,
        *,
        to: str,
        hops: Sequence[DialResult],
        caller: str,
        caller_name: str,
        session_id: str,
        started: float,
        is_receptionist: Callable[[str], bool],
        name_of: Callable[[str], str],
    ) -> CallOutcome | None:
        """Decide how the call ended and queue its events; ``None`` when no event URL is
        enabled (nothing to send, nothing decided)."""
        urls = self.urls()
        if not urls:
            return None
        receptionists = [to]
        for hop in hops:
            here = hop.fields.get("to") or to
            if here != receptionists[-1]:
                receptionists.append(here)
        last = hops[-1] if hops else None
        target: tuple[str, Extension] | None = None
        decided = last is not None and last.error is None
        if decided and last is not None and last.action == "call" and last.destination:
            forward = last.destination
            if not is_receptionist(forward):
                target = (forward, self.extensions.get(forward, Extension()))
            elif forward != receptionists[-1]:
                receptionists.append(forward)
        hung_up = decided and last is not None and last.action == "hangup"
        legs = call_legs(
            receptionists, target, started=int(started), left=int(time.time()), hung_up=hung_up
        )
        outcome = CallOutcome.of(session_id, legs)
        facts = CallFacts(
            session_id=session_id,
            caller=caller,
            caller_name=caller_name,
            receptionist_name=name_of(to),
            tenant_id=str(self.tenant.get("id")),
            tenant_name=str(self.tenant.get("name") or ""),
            domain=self._domain(),
        )
        self.sender.send(call_events(facts, outcome), urls, call=session_id)
        self._outcomes[session_id] = outcome
        while len(self._outcomes) > _KEPT:
            self._outcomes.popitem(last=False)
        return outcome

    def _domain(self) -> str:
        return str(self.tenant.get("domain") or DOMAIN)

    def set_extension(
        self,
        number: str,
        state: Answering | None = None,
        *,
        presence: str | None = None,
        presence_note: str = "",
    ) -> int:
        """Change what extension ``number`` does with calls (``state``) or its presence, and
        tell the extension URL: ``extension_status`` for a state (online, call status,
        presence), ``extension_presence`` for a presence alone. How many events were queued."""
        if presence is not None:
            self.presences[number] = (presence, presence_note)
        if state is not None:
            current = self.extensions.get(number, Extension())
            self.extensions[number] = dataclasses.replace(current, state=state)
        urls = self.urls()
        tenant_id, at = str(self.tenant.get("id")), int(time.time())
        said, note = self.presences.get(number, ("ONLINE", ""))
        if state is None:
            found = message(
                "extension_presence",
                tenant_id=tenant_id,
                domain=self._domain(),
                number=number,
                at=at,
                presence=said,
                presence_note=note,
            )
            return self.sender.send([found], urls)
        entry = {
            "extension": f"sip:{number}@{self._domain()}",
            "extension_id": extension_id(tenant_id, number),
            "call_status": "ON_CALL" if state == "busy" else "",
            "online": state != "offline",
            "presence": said,
            "presence_note": note,
            "push_online": False,
            "time": str(at),
        }
        body = {"event_type": "extension_status", "status": [entry], "tenant_id": tenant_id}
        return self.sender.send([("extension", body)], urls)
