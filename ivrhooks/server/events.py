"""``/events/cdr`` and ``/events/extension``: where PortSIP's event webhooks are received.

PortSIP POSTs each CDR or extension event as a JSON object, at least once and in no order, and
retries anything but a 200, except that a 404 stops it for good (webhook-notifications,
"Receiving events"). So these paths answer:

- **200** once every event of the request is stored (the inbox: this process's memory, or a
  Redis stream every replica reads), or is a duplicate of one stored within the dedup window, or
  has a type ivrhooks does not know (stored and counted: PortSIP adds types);
- **503** when the backlog is full or the store failed: nothing of the request is stored, and
  the PBX sends it again later, so nothing is lost;
- **400** for a body that is not a JSON object (nor a list of objects: PortSIP's buffering may
  batch, undocumented), logged: it will never become an event, so no retry would help;
- **401/403/429** as for action URLs (the same Basic, Digest or Bearer, allow-list and throttle);
- **405** for anything but POST; never 404.

Extension events also update the presence view at once (``req.presence()``), whatever handlers
the app has; events are stored for processing only when the app declares ``@app.event``
handlers.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any

from starlette.types import Receive, Scope, Send

from ivrhooks.core.auth.guard import AuthGuard
from ivrhooks.core.auth.verdict import Authenticator
from ivrhooks.errors import InboundError, InboxFullError, InboxUnavailableError
from ivrhooks.events import ExtensionEvent, event_digest, parse_event
from ivrhooks.events.inbox import Inbox
from ivrhooks.events.presence import PresenceView
from ivrhooks.observe.observer import Observer
from ivrhooks.runtime import Signals
from ivrhooks.server.auth import admit, authenticate
from ivrhooks.server.hashing import HashRunner
from ivrhooks.server.responses import error_body, read_body, send_json

__all__ = ["EventEndpoint"]

log = logging.getLogger("ivrhooks.events")

_POST_ONLY = ((b"allow", b"POST"),)
_WRONG_METHOD = error_body("use POST")
_BUSY = ((b"retry-after", b"30"),)
#: How long the slow half of auth (a bcrypt check of static credentials) may take here.
_AUTH_WITHIN = 1.0
#: How long recording one message's presence may take before the request goes on without it.
_PRESENCE_WITHIN = 0.5


class EventEndpoint:
    """Receives one kind of event (``cdr`` or ``extension``)."""

    def __init__(
        self,
        kind: str,
        *,
        route_id: str,
        authenticator: Authenticator | None,
        guard: AuthGuard,
        hashing: HashRunner,
        observer: Observer,
        signals: Signals,
        presence: PresenceView,
        inbox: Inbox | None,
        max_body: int,
        report: Callable[[str], None] | None = None,
    ) -> None:
        self.kind = kind
        self.route_id = route_id
        self.authenticator = authenticator
        self.guard = guard
        self.hashing = hashing
        self.observer = observer
        self.signals = signals
        self.presence = presence
        self.inbox = inbox
        self.max_body = max_body
        self._report = report

    def _count(self, outcome: str, n: int = 1) -> None:
        # What the inbox does not count itself: unreadable bodies, and events only read.
        if self._report is not None:
            for _ in range(n):
                self._report(outcome)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] != "POST":
            await send_json(send, 405, _WRONG_METHOD, _POST_ONLY)
            return
        authenticator = self.authenticator
        if authenticator is not None:
            verdict, ip = authenticate(scope, authenticator, self.guard)
            if verdict.ok:
                if ip not in self.signals.known:
                    self.signals.authenticated(ip)
            elif not await admit(
                verdict,
                ip,
                send,
                authenticator,
                self.guard,
                self.hashing,
                self.signals,
                self.observer,
                self.route_id,
                asyncio.get_running_loop().time() + _AUTH_WITHIN,
            ):
                return
        try:
            body = await read_body(scope, receive, self.max_body)
        except InboundError as exc:
            self._count("unreadable")
            log.warning("a %s event request could not be read: %s", self.kind, exc)
            await send_json(send, exc.status, error_body(f"{exc} (IVRHOOKS_EVENTS_MAX_BODY)"))
            return
        bodies = _events(body)
        if bodies is None:
            self._count("unreadable")
            log.warning(
                "a %s event request was not a JSON object (nor a list of them): 400", self.kind
            )
            await send_json(send, 400, error_body("not a PortSIP event: give a JSON object"))
            return
        if self.kind == "extension":
            await self._note_presence(bodies)
        if self.inbox is None:  # no handler wants them: read for presence only
            self._count("read", len(bodies))
            await send_json(send, 200, b'{"status":"ok"}')
            return
        digests = [event_digest(self.kind, item) for item in bodies]  # type: ignore[arg-type]
        try:
            await self.inbox.accept(self.kind, bodies, digests)
        except InboxFullError:
            await send_json(send, 503, error_body("busy: retry later"), _BUSY)
            return
        except InboxUnavailableError:
            await send_json(send, 503, error_body("unavailable: retry later"), _BUSY)
            return
        await send_json(send, 200, b'{"status":"ok"}')

    async def _note_presence(self, bodies: list[dict[str, Any]]) -> None:
        for body in bodies:
            event = parse_event("extension", body)
            if not isinstance(event, ExtensionEvent):
                continue
            for state in event.states:
                if not state.extension:
                    continue
                said = {
                    "call_status": state.call_status,
                    "presence": state.presence,
                    "online": state.online,
                    "push_online": state.push_online,
                }
                try:
                    async with asyncio.timeout(_PRESENCE_WITHIN):
                        await self.presence.update(state.extension, said, state.time)
                except (TimeoutError, OSError):
                    log.warning("an extension's presence could not be recorded now")
                    return


def _events(body: bytes) -> list[dict[str, Any]] | None:
    """The events in a body: one JSON object, or a list of them (a batch); else ``None``."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return None
    if isinstance(data, dict):
        return [data]
    if isinstance(data, list) and data and all(isinstance(item, dict) for item in data):
        return data
    return None
