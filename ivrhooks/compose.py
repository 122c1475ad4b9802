"""The composition root: an app's declaration and configuration become a running server.

From the declared route table and the resolved :class:`~ivrhooks.config.Config`: the manifest,
the store, each route's verifier, the endpoint, the :class:`~ivrhooks.runtime.Runtime`, the
services (registration when a PBX is configured) and the :class:`~ivrhooks.server.app.Server`.
``IVRHooks.build()`` calls :func:`compose` with its parts; nothing here imports the app.
"""

from __future__ import annotations

import contextlib
import logging
import types
from collections.abc import AsyncIterator, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ivrhooks.conf.config import Config
from ivrhooks.core.auth.credentials import Secrets
from ivrhooks.core.auth.guard import AuthGuard
from ivrhooks.core.routes import RouteTable
from ivrhooks.core.sessions import SessionBroker
from ivrhooks.core.types import Handler
from ivrhooks.errors import ConfigurationError
from ivrhooks.manifest import build_manifest
from ivrhooks.observe.builtin import RequestObserver
from ivrhooks.observe.journal import CallJournal
from ivrhooks.observe.logs import ensure_request_logging
from ivrhooks.observe.metrics import Metrics
from ivrhooks.observe.observer import Observer, fan_out
from ivrhooks.observe.tracing import Tracing
from ivrhooks.observe.tracing_setup import start_tracing
from ivrhooks.registration.service import Registration
from ivrhooks.route_auth import build_authenticators
from ivrhooks.runtime import Runtime, Service
from ivrhooks.server.app import Action, Server
from ivrhooks.server.endpoint import ActionEndpoint, ServedRoute
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
    """``IVRHooks(tracing=...)``: see :func:`ivrhooks.tracing_setup.start_tracing`."""


def _traced(endpoint: ActionEndpoint, tracing: Tracing | None) -> Action | None:
    """The endpoint inside each request's server span, when tracing is on."""
    if tracing is None:
        return None
    from ivrhooks.observe.otel import OTelTracing
    from ivrhooks.server.tracing import TracedEndpoint  # imports OpenTelemetry: only now

    assert isinstance(tracing, OTelTracing)
    return TracedEndpoint(endpoint, tracing)


def compose(parts: Parts, config: Config, services: list[Service]) -> Server:
    """The server of ``parts`` under ``config``, with ``services`` (registration added when a
    PBX is configured and none is among them). Raises :class:`ConfigurationError`."""
    if config.pbx is None and config.embedded_explicit:
        raise ConfigurationError(
            "IVRHOOKS_EMBEDDED_PBX=true: only `ivrhooks run` and `ivrhooks dev` embed the fake "
            "PBX; to serve with another server, set IVRHOOKS_PBX_URL to a PBX"
        )
    manifest = build_manifest(parts.table, config, app_name=parts.name)
    secrets = Secrets(config.secret, config.auth.previous_secret)
    tracing = start_tracing(parts.tracing)  # once: the request path never asks again
    runtime = Runtime(
        config=config,
        manifest=manifest,
        secrets=secrets,
        state=parts.state,
        metrics=Metrics(by_route=config.serving.route_label),
        tracing=tracing,
    )
    builtin = RequestObserver(
        runtime.metrics,
        on_refused=runtime.credentials_refused,
        trace_ids=tracing.ids if tracing is not None else None,
    )
    chain: list[Observer] = [builtin]
    if tracing is not None:
        chain.append(tracing.observer)
    runtime.observer = fan_out([*chain, *parts.observers])
    runtime.store = open_store(
        config.store.redis_url,
        connect_timeout=config.store.connect_timeout,
        timeout=config.store.timeout,
        max_connections=config.store.max_connections,
        on_fallback=runtime.observer.store_fallback,
        on_op=runtime.observer.store_op,
    )
    if config.embedded_pbx:
        runtime.journal = CallJournal()  # for the development tools; never with a real PBX
    chosen = list(services)
    registering = config.registers
    if registering and not any(isinstance(s, Registration) for s in chosen):
        chosen.insert(0, Registration())
    serving = config.serving
    guard = AuthGuard(
        allow=config.auth.allow,
        trusted_proxies=config.auth.trusted_proxies,
        ops_allow=config.auth.ops_allow,
    )
    if runtime.store.kind != "memory":
        # Replicas count failures together: N replicas are not N times a guesser's budget.
        guard.throttle.share(SharedCounts(runtime.store, f"ivrhooks:{manifest.app_id}:throttle:"))
    endpoint = ActionEndpoint(
        budget=serving.deadline,
        fallback=parts.fallback,
        executor=lambda: ThreadPoolExecutor(
            serving.max_threads, thread_name_prefix="ivrhooks-handler"
        ),
        max_body=serving.max_body,
        guard=guard,
        observer=runtime.observer,
        journal=runtime.journal,
        trace=tracing,
        sessions=SessionBroker(
            runtime.store,
            manifest.app_id,
            ttl=serving.session_ttl,
            max_bytes=serving.session_max_bytes,
        ),
    )
    if config.auth.scheme == "none" and "IVRHOOKS_AUTH" in config.from_env:
        # Setting IVRHOOKS_AUTH=none is the operator's explicit choice; say what it means.
        logger.warning(
            "IVRHOOKS_AUTH=none: action URLs are served without authentication; anyone "
            "who can reach this service can drive the receptionists"
        )
    built = {"version": parts.table.version}
    # The registered method only, unless the code or IVRHOOKS_SERVE_METHODS says more.
    methods = frozenset(serving.methods or (config.registration.method,))

    def compile_routes() -> dict[str, ServedRoute]:
        # Again when a route was added after the build: every route gets its verifier.
        if built["version"] != parts.table.version:
            runtime.manifest = build_manifest(parts.table, config, app_name=parts.name)
            built["version"] = parts.table.version
        verifiers = build_authenticators(
            runtime.manifest, config.auth, secrets, shared=runtime.store
        )
        return {
            entry.path: ServedRoute(
                entry.route,
                frozenset(entry.receptionists),
                entry.scheme,
                verifiers[entry.name],
                methods,
                entry.path,
            )
            for entry in runtime.manifest.routes
        }

    @contextlib.asynccontextmanager
    async def running() -> AsyncIterator[None]:
        # Under any server: JSON request lines and no query strings in access logs.
        ensure_request_logging()
        if not config.registration.enabled:
            logger.info("IVRHOOKS_REGISTER=false: serving only, registering on no PBX")
        elif config.pbx is None:
            logger.info(
                "no PBX configured (IVRHOOKS_PBX_URL is unset): action URLs are not "
                "registered anywhere; `ivrhooks run` embeds a fake PBX in this case"
            )
        else:
            logger.info("registering on the PBX: %s", config.registers_on)
        if tracing is not None:
            logger.info("tracing: OpenTelemetry spans for every action-URL request")
        if config.secret_generated:
            logger.warning(
                "no IVRHOOKS_SECRET set: generated a random one for this process; action-URL "
                "credentials change on every start (set IVRHOOKS_SECRET for a real PBX)"
            )
        async with contextlib.AsyncExitStack() as stack:
            stack.push_async_callback(runtime.store.close)
            if parts.lifespan is not None:
                state = await stack.enter_async_context(parts.lifespan())
                for key, value in (state or {}).items():
                    setattr(parts.state, key, value)
            for service in chosen:
                await stack.enter_async_context(service(runtime))
            yield

    return Server(
        runtime=runtime,
        endpoint=endpoint,
        table=parts.table,
        compile=compile_routes,
        running=running,
        action=_traced(endpoint, tracing),
    )
