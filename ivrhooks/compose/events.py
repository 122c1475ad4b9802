"""PortSIP's event webhooks, composed: the two receiving endpoints, the presence view, and when
the app declares ``@app.event`` handlers the inbox, the dispatcher and the routing-decision log.

Extension events always update the presence view (``req.presence()``), whatever handlers the app
has. Events are stored only for handlers: with none, the endpoints answer 200 once the presence
is noted. Routing decisions are recorded only when a handler can read them (a CDR type or
``"*"``). docs/events.md says what each part promises.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ivrhooks.conf.config import Config
from ivrhooks.core.auth.build import build_authenticator
from ivrhooks.core.auth.credentials import Secrets
from ivrhooks.core.auth.guard import AuthGuard
from ivrhooks.core.auth.replay import ReplayStore, SharedReplayStore
from ivrhooks.core.resources import Resources
from ivrhooks.events.decisions import DecisionLog, DecisionRecorder
from ivrhooks.events.dispatch import ALL, CDR_TYPES, Dispatcher
from ivrhooks.events.inbox import Inbox, open_inbox
from ivrhooks.events.presence import PresenceView
from ivrhooks.manifest import Manifest
from ivrhooks.observe.metrics import Metrics
from ivrhooks.observe.observer import Observer
from ivrhooks.runtime import Signals
from ivrhooks.server.events import EventEndpoint
from ivrhooks.server.hashing import HashRunner
from ivrhooks.store import Store

__all__ = ["Events", "compose_events", "event_decisions"]

log = logging.getLogger("ivrhooks.events")

#: How long shutdown waits for the routing decisions still being written.
_DRAIN_WITHIN = 2.0


def event_decisions(handlers: Mapping[str, Sequence[object]]) -> bool:
    """Whether any handler can read a call's routing decisions (a CDR type, or ``"*"``)."""
    return any(handlers.get(name) for name in (*CDR_TYPES, ALL))


@dataclass(frozen=True)
class Events:
    """The event side of one start of an app."""

    endpoints: dict[str, EventEndpoint]
    """By path (:data:`~ivrhooks.manifest.EVENT_PATHS`), and with a trailing slash: an event URL
    typed by hand with one must not meet a 404, which stops PortSIP's retries for good."""
    presence: PresenceView
    recorder: DecisionRecorder | None
    """Told of every answer (an observer) when a handler reads decisions."""
    inbox: Inbox | None
    dispatcher: Dispatcher | None

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Hands stored events to the handlers while the app serves; at the end stops taking
        new ones (those in hand go back to the inbox), writes the pending decisions, closes."""
        task: asyncio.Task[None] | None = None
        if self.inbox is not None and self.dispatcher is not None:
            task = asyncio.get_running_loop().create_task(
                self.inbox.run(self.dispatcher), name="ivrhooks-events"
            )
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if self.recorder is not None:
                await self.recorder.drain(_DRAIN_WITHIN)
            if self.inbox is not None:
                await self.inbox.close()


def compose_events(
    handlers: Mapping[str, Sequence[Callable[..., Any]]],
    config: Config,
    manifest: Manifest,
    *,
    store: Store,
    secrets: Secrets,
    replay: ReplayStore | SharedReplayStore,
    guard: AuthGuard,
    hashing: HashRunner,
    observer: Observer,
    signals: Signals,
    metrics: Metrics,
    resources: Resources,
) -> Events:
    """The event side for ``handlers`` (``@app.event``, by type) under ``config``, at the
    manifest's event endpoints."""
    app_id = manifest.app_id
    events = config.events
    presence = PresenceView(store, app_id, ttl=events.presence_ttl)
    report = metrics.events.event
    inbox: Inbox | None = None
    dispatcher: Dispatcher | None = None
    recorder: DecisionRecorder | None = None
    if any(handlers.values()):
        decisions = None
        if event_decisions(handlers):
            decisions = DecisionLog(store, app_id, ttl=events.decisions_ttl)
            recorder = DecisionRecorder(decisions, dropped=lambda: report("decision_dropped"))
        bound = {
            name: [resources.bind(handler) for handler in found] for name, found in handlers.items()
        }
        dispatcher = Dispatcher(bound, decisions=decisions, report=report)
        inbox = open_inbox(
            events,
            redis_url=config.store.redis_url,
            app_id=app_id,
            connect_timeout=config.store.connect_timeout,
            timeout=config.store.timeout,
            max_connections=config.store.max_connections,
            report=report,
        )
    auth = config.auth
    endpoints = {}
    for entry in manifest.events:
        authenticator = (
            None
            if entry.scheme == "none"
            else build_authenticator(
                entry.scheme,
                entry.name,
                secrets=secrets,
                realm=auth.realm,
                digest_algorithms=auth.digest_algorithms,
                replay_store=replay,
            )
        )
        endpoints[entry.path] = endpoints[entry.path + "/"] = EventEndpoint(
            entry.kind,
            route_id=entry.name,
            authenticator=authenticator,
            guard=guard,
            hashing=hashing,
            observer=observer,
            signals=signals,
            presence=presence,
            inbox=inbox,
            max_body=events.max_body,
            report=report,
        )
    return Events(endpoints, presence, recorder, inbox, dispatcher)
