"""The composition root: an app's declaration and configuration become a running server.

From the declared route table and the resolved :class:`~ivrhooks.conf.config.Config`, in one
pass: the manifest, the store, each route's verifier, the endpoint, the
:class:`~ivrhooks.runtime.Runtime`, the services (registration when a PBX is configured) and the
:class:`~ivrhooks.server.app.Server`. Nothing is assigned after it is built, and nothing is
compiled again while serving: the app's declaration is frozen when it is built.
``IVRHooks.build()`` calls :func:`compose` with its parts; nothing here imports the app.
"""

from __future__ import annotations

import contextlib
import logging
import types
from collections.abc import AsyncIterator, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ivrhooks.cache import Cache
from ivrhooks.compose.events import Events, compose_events
from ivrhooks.compose.routes import (
    build_verifiers,
    previous_users,
    replay_store,
    served_routes,
    traced,
)
from ivrhooks.conf.capture import CaptureConfig
from ivrhooks.conf.config import Config
from ivrhooks.core.auth.credentials import Secrets
from ivrhooks.core.auth.guard import AuthGuard
from ivrhooks.core.deadline import Deadline
from ivrhooks.core.request import Handler
from ivrhooks.core.resources import Factory, Resources
from ivrhooks.core.routes import RouteTable
from ivrhooks.core.runner import Middleware
from ivrhooks.core.sessions import SessionBroker
from ivrhooks.errors import ConfigurationError
from ivrhooks.manifest import build_manifest
from ivrhooks.observe.builtin import RequestObserver
from ivrhooks.observe.capture import CaptureObserver
from ivrhooks.observe.journal import CallJournal
from ivrhooks.observe.logs import ensure_request_logging
from ivrhooks.observe.metrics import Metrics
from ivrhooks.observe.observer import Observer, fan_out
from ivrhooks.observe.tracing import Tracing
from ivrhooks.observe.tracing_setup import start_tracing
from ivrhooks.registration.service import Registration
from ivrhooks.runtime import Runtime, Service, Signals
from ivrhooks.server.app import Server
from ivrhooks.server.endpoint import ActionEndpoint
from ivrhooks.server.hashing import HashRunner
from ivrhooks.store import open_store
from ivrhooks.store.throttle import SharedCounts

if TYPE_CHECKING:
    from opentelemetry.trace import TracerProvider

__all__ = ["Parts", "compose"]

logger = logging.getLogger("ivrhooks")


@dataclass(frozen=True)
class Parts:
    """What the composition needs of an app's declaration."""

    table: RouteTable
    name: str
    state: types.SimpleNamespace
    fallback: Handler | None
    lifespan: Callable[[], AbstractAsyncContextManager[Mapping[str, Any] | None]] | None
    observers: tuple[Observer, ...] = ()
    """Told after the built-in observer (metrics, the request line) and the tracing one."""
    tracing: bool | TracerProvider = True
    """``IVRHooks(tracing=...)``: see :func:`ivrhooks.observe.tracing_setup.start_tracing`."""
    caches: tuple[Cache, ...] = ()
    """``app.cache(...)``: bound to the store (shared with Redis) and the metrics while running."""
    resources: Mapping[str, Factory] = field(default_factory=dict)
    """``@app.resource``: set up before the app serves, handed to handlers by name."""
    middleware: tuple[Middleware, ...] = ()
    """``@app.middleware``, outermost first."""
    events: Mapping[str, tuple[Callable[..., Any], ...]] = field(default_factory=dict)
    """``@app.event`` handlers, by event type (``"*"``: every type)."""


def _observer(
    parts: Parts, metrics: Metrics, tracing: Tracing | None, capture: CaptureConfig
) -> tuple[Observer, RequestObserver, list[Service]]:
    """The app's one observer (the built-in one, tracing's, the request capture's, the app's
    own), the built-in one, and the services that keep an observer's file open."""
    builtin = RequestObserver(metrics, trace_ids=tracing.ids if tracing is not None else None)
    chain: list[Observer] = [builtin]
    services: list[Service] = []
    if tracing is not None:
        chain.append(tracing.observer)
    if capture.file is not None:
        # After ivrhooks' own observers, before the app's.
        recorder = CaptureObserver(
            capture.file,
            max_bytes=capture.max_bytes,
            files=capture.files,
            callers=capture.callers,
            digits=capture.digits,
        )
        metrics.registry.register(recorder.collector())
        chain.append(recorder)
        services.append(recorder.serving)
    return fan_out([*chain, *parts.observers]), builtin, services


def compose(
    parts: Parts,
    config: Config,
    services: list[Service],
    *,
    journal: CallJournal | None = None,
    resources: Mapping[str, Any] | None = None,
) -> Server:
    """The server of ``parts`` under ``config``, with ``services`` (registration added when a
    PBX is configured and none is among them). ``journal``: the call journal to keep (the
    embedded fake PBX reads it; one is made when the config embeds the PBX and none is given).
    ``resources``: values standing in for declared resources, by name (not set up).
    Raises :class:`ConfigurationError`."""
    if config.pbx is None and config.embedded_explicit:
        raise ConfigurationError(
            "IVRHOOKS_EMBEDDED_PBX=true: only `ivrhooks run` and `ivrhooks dev` embed the fake "
            "PBX; to serve with another server, set IVRHOOKS_PBX_URL to a PBX"
        )
    manifest = build_manifest(parts.table, config, app_name=parts.name, fallback=parts.fallback)
    serving = config.serving
    secrets = Secrets(config.secret, config.auth.previous_secret)
    tracing = start_tracing(parts.tracing)  # once: the request path never asks again
    metrics = Metrics(by_route=serving.route_label)
    observer, _, observing = _observer(parts, metrics, tracing, config.capture)
    store = open_store(
        config.store.redis_url,
        connect_timeout=config.store.connect_timeout,
        timeout=config.store.timeout,
        max_connections=config.store.max_connections,
        on_fallback=observer.store_fallback,
        on_op=observer.store_op,
    )
    if journal is None and config.embedded_pbx:
        journal = CallJournal()  # for the development tools; never with a real PBX
    signals = Signals(
        allowed_only=bool(config.auth.allow),
        previous_users=previous_users(manifest, config.auth.previous_secret),
    )
    guard = AuthGuard(
        allow=config.auth.allow,
        trusted_proxies=config.auth.trusted_proxies,
        ops_allow=config.auth.ops_allow,
    )
    if store.kind != "memory":
        # Replicas count failures together: N replicas are not N times a guesser's budget.
        guard.throttle.share(SharedCounts(store, f"ivrhooks:{manifest.app_id}:throttle:"))
    replay = replay_store(manifest.app_id, config.auth, store)
    hashing = HashRunner()
    shared = Resources(parts.resources)
    events = compose_events(
        parts.events,
        config,
        manifest,
        store=store,
        secrets=secrets,
        replay=replay,
        guard=guard,
        hashing=hashing,
        observer=observer,
        signals=signals,
        metrics=metrics,
        resources=shared,
    )
    if events.recorder is not None:
        observer = fan_out([observer, events.recorder])  # told after the answer is sent
    runtime = Runtime(
        config=config,
        manifest=manifest,
        secrets=secrets,
        metrics=metrics,
        observer=observer,
        store=store,
        tracing=tracing,
        journal=journal,
        state=parts.state,
        signals=signals,
    )
    endpoint = ActionEndpoint(
        deadline=Deadline.of(serving.deadline),
        executor=lambda: ThreadPoolExecutor(
            serving.max_threads, thread_name_prefix="ivrhooks-handler"
        ),
        max_body=serving.max_body,
        guard=guard,
        observer=observer,
        signals=runtime.signals,
        journal=journal,
        trace=tracing,
        sessions=SessionBroker(
            store, manifest.app_id, ttl=serving.session_ttl, max_bytes=serving.session_max_bytes
        ),
        hashing=hashing,
        presence=events.presence,
    )
    verifiers = build_verifiers(manifest, config.auth, secrets, shared=store, replay=replay)
    if config.auth.scheme == "none" and "IVRHOOKS_AUTH" in config.from_env:
        # Setting IVRHOOKS_AUTH=none is the operator's explicit choice; say what it means.
        logger.warning(
            "IVRHOOKS_AUTH=none: action URLs are served without authentication; anyone "
            "who can reach this service can drive the receptionists"
        )
    # The registered method only, unless the code or IVRHOOKS_SERVE_METHODS says more.
    methods = frozenset(serving.methods or (config.registration.method,))
    routes = served_routes(manifest, verifiers, methods, shared, parts.middleware)
    chosen = list(services)
    if config.registers and not any(isinstance(s, Registration) for s in chosen):
        chosen.insert(0, Registration())
    chosen[:0] = observing  # first in, last out: a capture file that cannot open stops startup
    return Server(
        runtime=runtime,
        endpoint=endpoint,
        routes=routes,
        running=_running(parts, runtime, chosen, shared, resources, events),
        action=traced(endpoint, tracing),
        events=events.endpoints,
    )


def _running(
    parts: Parts,
    runtime: Runtime,
    services: list[Service],
    resources: Resources,
    overrides: Mapping[str, Any] | None,
    events: Events,
) -> Callable[..., AbstractAsyncContextManager[None]]:
    """What the server's lifespan enters: the startup log, the store, the resources (or their
    stand-ins), the caches, the app's lifespan, the event handlers and the services, left in
    reverse order."""
    config = runtime.config

    @contextlib.asynccontextmanager
    async def running(announce: bool = True) -> AsyncIterator[None]:
        # Under any server: JSON request lines and no query strings in access logs.
        ensure_request_logging()
        if announce:
            _announce(config, runtime.tracing is not None)
        async with contextlib.AsyncExitStack() as stack:
            stack.push_async_callback(runtime.store.close)
            await stack.enter_async_context(resources.running(overrides))
            shared = runtime.store if runtime.store.kind != "memory" else None
            for cache in parts.caches:  # before the lifespan, which may warm them
                runtime.metrics.caches.declare(cache.name)
                cache.bind(
                    shared,
                    prefix=f"ivrhooks:{runtime.manifest.app_id}:cache:",
                    report=runtime.metrics.caches.event,
                    timeout=config.store.timeout,
                )
                stack.push_async_callback(cache.unbind)
            if parts.lifespan is not None:
                state = await stack.enter_async_context(parts.lifespan())
                for key, value in (state or {}).items():
                    setattr(parts.state, key, value)
            await stack.enter_async_context(events.running())
            for service in services:
                await stack.enter_async_context(service(runtime))
            yield

    return running


def _announce(config: Config, traced: bool) -> None:
    """The startup log: where the app registers, and what an operator should know."""
    if not config.registration.enabled:
        logger.info("IVRHOOKS_REGISTER=false: serving only, registering on no PBX")
    elif config.pbx is None:
        logger.info(
            "no PBX configured (IVRHOOKS_PBX_URL is unset): action URLs are not "
            "registered anywhere; `ivrhooks run` embeds a fake PBX in this case"
        )
    else:
        logger.info("registering on the PBX: %s", config.registers_on)
    if config.pbx is not None and not config.pbx.verify_tls:
        # What registration sends there (the REST login, every action URL's credentials) goes
        # to whoever answers: say so at every start, not only in `ivrhooks doctor`.
        logger.warning(
            "IVRHOOKS_PBX_VERIFY_TLS=false: the PBX's TLS certificate is not verified; anyone "
            "on the network path to %s can pose as the PBX and read the REST login and the "
            "action-URL credentials registered there",
            config.registers_on,
        )
    if traced:
        logger.info("tracing: OpenTelemetry spans for every action-URL request")
    if config.secret_generated:
        logger.warning(
            "no IVRHOOKS_SECRET set: generated a random one for this process; action-URL "
            "credentials change on every start (set IVRHOOKS_SECRET for a real PBX)"
        )
