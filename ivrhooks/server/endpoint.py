"""The hot path: one pure-ASGI endpoint per action-URL request.

auth (before the body is read) → read and parse the fields → check the route's mask and
receptionists → handler under a deadline → render. No Starlette request objects on this path:
an action URL sits in a live call, and the caller hears silence while the PBX waits.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Executor
from dataclasses import dataclass, field

from starlette.types import ASGIApp, Receive, Scope, Send

from ivrhooks.core.auth.guard import AuthGuard
from ivrhooks.core.auth.verdict import Authenticator
from ivrhooks.core.context import CallContext, PresenceLookup
from ivrhooks.core.deadline import Deadline, Due
from ivrhooks.core.masks import Mask
from ivrhooks.core.request import ActionRequest, fields_from_body, fields_from_query
from ivrhooks.core.routes import Route
from ivrhooks.core.runner import HandlerTrace, Outcome, Runnable, decide
from ivrhooks.core.sessions import SessionBroker
from ivrhooks.core.types import METHODS, FallbackCause, Scheme
from ivrhooks.errors import ConfigurationError, InboundError
from ivrhooks.observe.journal import CallJournal
from ivrhooks.observe.observer import Observer
from ivrhooks.runtime import Signals
from ivrhooks.server.auth import admit, authenticate
from ivrhooks.server.hashing import HashRunner
from ivrhooks.server.responses import error_body, read_body, send_json

__all__ = ["ActionEndpoint", "ServedRoute"]

logger = logging.getLogger("ivrhooks.request")


@dataclass(slots=True)
class ServedRoute:
    """A route as served: everything the hot path needs, computed once at startup."""

    route: Route
    receptionists: frozenset[str]
    scheme: Scheme
    authenticator: Authenticator | None
    """The route's verifier; ``None`` exactly when ``scheme`` is ``none``."""
    methods: frozenset[str] = frozenset(METHODS)
    """The methods answered; the app serves the registered one only (``ServingConfig.methods``)."""
    path: str = ""
    """The path it is served at (``/hooks/sales``): the ``http.route`` of its spans."""
    fallback: Runnable | None = None
    """What answers when the handler fails, overruns or the request does not fit its route."""
    runnable: Runnable | None = None
    """How the handler is run (bound to its resources, inside the middleware); by default the
    route's handler as it is."""
    masks: Mapping[str, Mask] | None = None
    """The mask the route answers on each receptionist; by default its own on every one."""
    handler: Runnable = field(init=False)
    on: Mapping[str, Mask] = field(init=False)
    """``masks`` as served: one dict lookup tells both "right receptionist?" and the mask."""
    allow: tuple[tuple[bytes, bytes], ...] = field(init=False)
    """The ``Allow`` header of a 405 (RFC 9110 §15.5.6: it lists the methods answered)."""
    wrong_method: bytes = field(init=False)

    def __post_init__(self) -> None:
        # Fail closed: a route is served without credentials only when its scheme says so.
        if (self.authenticator is None) != (self.scheme == "none"):
            raise ConfigurationError(
                f"route {self.route.name!r}: scheme {self.scheme!r} with "
                f"{'no' if self.authenticator is None else 'a'} verifier"
            )
        self.handler = self.runnable or Runnable.of(self.route.handler)
        self.on = dict(self.masks or dict.fromkeys(self.receptionists, self.route.mask))
        if not self.methods or not self.methods <= set(METHODS):
            raise ConfigurationError(
                f"route {self.route.name!r}: methods {sorted(self.methods)!r}; "
                "choose GET and/or POST"
            )
        ordered = [m for m in METHODS if m in self.methods]
        self.allow = ((b"allow", ", ".join(ordered).encode("ascii")),)
        self.wrong_method = error_body(f"use {' or '.join(ordered)}")


class ActionEndpoint:
    """Serves action-URL requests for every route of one app."""

    def __init__(
        self,
        *,
        deadline: Deadline,
        executor: Callable[[], Executor] | None,
        max_body: int,
        guard: AuthGuard,
        observer: Observer,
        signals: Signals,
        journal: CallJournal | None = None,
        sessions: SessionBroker | None = None,
        hashing: HashRunner | None = None,
        trace: HandlerTrace | None = None,
        presence: PresenceLookup | None = None,
    ) -> None:
        self.deadline = deadline
        """The answer budget and the fallback's reserve in it (:mod:`ivrhooks.core.deadline`)."""
        self._new_executor = executor
        self.executor: Executor | None = executor() if executor is not None else None
        self.max_body = max_body
        self.guard = guard
        self.observer = observer
        """Told of every answer and refusal (:mod:`ivrhooks.observe.observer`): one object,
        decided at build time, however many observers the app has."""
        self.signals = signals
        """Where a refusal that may mean stale credentials on the PBX is said (it steers
        registration; observers only hear)."""
        self.trace = trace
        """Spans around handlers when tracing is on; ``None`` otherwise."""
        self.journal = journal
        self.sessions = sessions
        self.hashing = hashing or HashRunner()
        self.presence = presence
        """Extensions' presence, for ``req.presence()``: kept from the PBX's extension events."""

    async def __call__(
        self, served: ServedRoute, scope: Scope, receive: Receive, send: Send
    ) -> None:
        loop = asyncio.get_running_loop()
        start, began = loop.time(), time.perf_counter()  # uvloop's time() ticks in ms
        method = scope["method"]
        if method not in served.methods:
            # Before auth: the answer is the same with or without valid credentials.
            await send_json(send, 405, served.wrong_method, served.allow)
            return
        route = served.route
        due = self.deadline.start(start)
        authenticator = served.authenticator
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
                route.name,
                due.handler,  # a slow hash is bounded by the handler's time
            ):
                return
        try:
            if method == "GET":
                fields = fields_from_query(scope["query_string"])
            else:
                fields = fields_from_body(await read_body(scope, receive, self.max_body))
            request = self.request(served, fields, method, due)
        except InboundError as exc:
            await send_json(send, exc.status, error_body(str(exc)))
            return
        outcome = await self.answer(served, request)
        await send_json(send, 200, outcome.decision.body())
        self.observer.answered(request, outcome, time.perf_counter() - began, served.scheme)

    def request(
        self, served: ServedRoute, fields: dict[str, str], method: str, due: Due
    ) -> ActionRequest:
        """The request for ``fields`` sent to ``served``, due when ``due`` says; raises
        :class:`InboundError` when the PBX's required fields are missing."""
        return ActionRequest.from_fields(
            fields,
            kind=served.route.kind,
            method=method,
            route=served.route.name,
            context=CallContext(due, self.sessions, self.presence),
        )

    async def answer(self, served: ServedRoute, request: ActionRequest) -> Outcome:
        """The decision for an authenticated, parsed ``request`` to ``served``: its handler's
        when the request fits the route, else the fallback's (the journal records it). What
        the server does after auth, and what ``ivrhooks.testing.local`` runs in process."""
        route = served.route
        cause: FallbackCause | None = None
        mask = served.on.get(request.to)
        if mask is None:
            cause = "receptionist"
        elif not mask.matches(request.digits if route.kind == "DTMF" else request.caller):
            cause = "no_match"
        if cause is not None:
            logger.warning(
                "request does not fit its route; answering the fallback",
                extra={"route": route.name, "cause": cause, "session_id": request.session_id},
            )
        outcome = await decide(
            None if cause else served.handler,
            served.fallback,
            request,
            executor=self.executor,
            cause=cause,
            trace=self.trace,
        )
        if self.journal is not None:
            # Before the answer goes out: whoever reads the journal on receiving it finds it.
            self.journal.record(request, outcome)
        return outcome

    def restart_executor(self) -> None:
        """Shut the sync handlers' thread pool down (not waiting for them), and start a fresh one
        (threads start lazily) so the same app can be served again, as tests do."""
        if self.executor is not None and self._new_executor is not None:
            self.executor.shutdown(wait=False, cancel_futures=True)
            self.executor = self._new_executor()
        self.hashing.shutdown()

    def bind(self, served: ServedRoute) -> ASGIApp:
        """The ASGI app serving one route exactly as the server does (for tests and tools)."""

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            await self(served, scope, receive, send)

        return app
