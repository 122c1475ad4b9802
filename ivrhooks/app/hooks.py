"""``IVRHooks``: the app, and the composition root that turns its declaration into a server.

An ``IVRHooks`` object holds the declaration (:mod:`ivrhooks.app.declare`: routes, fallbacks,
resources, middleware, caches), the lifespan, and the code's configuration objects. Nothing is
read from the environment when it is created. When the app starts (uvicorn's lifespan,
``ivrhooks run``, or an explicit :meth:`IVRHooks.build`), the environment is laid over the code's
configuration (:meth:`configure`), the routes become a manifest, the manifest becomes verifiers
and a route map, and a :class:`~ivrhooks.server.Server` serves them. See docs/architecture.md.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import sys
import types
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any

from ivrhooks.app.declare import Declarations
from ivrhooks.conf.config import (
    AuthConfig,
    CaptureConfig,
    Config,
    EventsConfig,
    PBXConfig,
    RegistrationConfig,
    ServingConfig,
    StoreConfig,
)
from ivrhooks.conf.settings import Declared, resolve
from ivrhooks.core.auth.credentials import Credentials, Secrets
from ivrhooks.core.routes import Route
from ivrhooks.core.types import SCHEMES, Scheme
from ivrhooks.errors import ConfigurationError
from ivrhooks.manifest import Manifest, build_manifest
from ivrhooks.observe.observer import Observer

if TYPE_CHECKING:
    from opentelemetry.trace import TracerProvider

    from ivrhooks.observe.journal import CallJournal
    from ivrhooks.observe.metrics import Metrics
    from ivrhooks.runtime import Runtime, Service
    from ivrhooks.server.app import Server
    from ivrhooks.server.asgi import Receive, Scope, Send

__all__ = ["IVRHooks", "Lifespan"]

Lifespan = Callable[["IVRHooks"], AbstractAsyncContextManager[Mapping[str, Any] | None]]

logger = logging.getLogger("ivrhooks")


def _module_name(scope: Mapping[str, Any]) -> str:
    name = str(scope.get("__name__") or "app")
    if name == "__main__":  # `python app.py`: the file's name, as an import would call it
        name = os.path.splitext(os.path.basename(str(scope.get("__file__") or "app")))[0]
    return name.rpartition(".")[2]


class IVRHooks(Declarations):
    """A PortSIP action-URL receiver: decorate handlers, then serve it as an ASGI app.

    ::

        app = IVRHooks(receptionists=["8000"])

        @app.dtmf("1;2;3000-4000")
        async def sales(req: ActionRequest):
            return call("2001")

    The keyword arguments are the code's configuration (see :mod:`ivrhooks.config`); the
    ``IVRHOOKS_*`` variables that are set override them when the app starts. ``secret``,
    ``allow_no_auth`` and ``public_url`` are shortcuts for the same fields of ``AuthConfig`` and
    ``RegistrationConfig``. ``env=False`` ignores the environment; a mapping stands in for it.

    ``observers`` are told what the app does (:class:`~ivrhooks.observer.Observer`), after the
    built-in one (metrics and the request log line). ``tracing``: ``True`` makes OpenTelemetry
    spans when the application set a tracer provider before the app starts, ``False`` never, a
    ``TracerProvider`` uses that one (docs/observability.md).
    """

    def __init__(
        self,
        receptionists: Iterable[str] = (),
        *,
        auth: Scheme | AuthConfig = "basic",
        pbx: PBXConfig | None = None,
        registration: RegistrationConfig | None = None,
        serving: ServingConfig | None = None,
        store: StoreConfig | None = None,
        events: EventsConfig | None = None,
        capture: CaptureConfig | None = None,
        secret: str | None = None,
        allow_no_auth: bool | None = None,
        public_url: str | None = None,
        lifespan: Lifespan | None = None,
        env: bool | Mapping[str, str] = True,
        observers: Iterable[Observer] = (),
        tracing: bool | TracerProvider = True,
    ) -> None:
        if isinstance(receptionists, str):
            raise ConfigurationError(
                f"receptionists={receptionists!r}: pass a list of extension numbers, "
                f"e.g. [{receptionists!r}]"
            )
        if isinstance(auth, str):
            if auth not in SCHEMES:
                raise ConfigurationError(
                    f"auth={auth!r}: choose 'basic', 'digest', 'bearer' or 'none'"
                )
            auth = AuthConfig(scheme=auth)
        elif not isinstance(auth, AuthConfig):
            raise ConfigurationError(f"auth={auth!r}: give a scheme name or an AuthConfig")
        registration = registration or RegistrationConfig()
        # The documented shortcuts, for the fields people set first.
        if secret is not None:
            auth = auth.replace(secret=secret)
        if allow_no_auth is not None:
            auth = auth.replace(allow_no_auth=allow_no_auth)
        if public_url is not None:
            registration = registration.replace(public_url=public_url)
        self.declared = Declared(
            receptionists=tuple(receptionists),
            auth=auth,
            pbx=pbx,
            registration=registration,
            serving=serving or ServingConfig(),
            store=store or StoreConfig(),
            events=events or EventsConfig(),
            capture=capture or CaptureConfig(),
        )
        """The code's configuration, before the environment is consulted."""
        super().__init__(self.declared.receptionists, allow_no_auth=auth.allow_no_auth)
        self.state = types.SimpleNamespace()
        """Resources the lifespan sets up (a CRM client, a database pool) for handlers to use."""
        for observer in observers:
            if not isinstance(observer, Observer):
                raise ConfigurationError(
                    f"observers: {observer!r} is not an ivrhooks.Observer; subclass it"
                )
        self.observers: list[Observer] = self._declared_list(observers)
        """Observers added to the built-in one, in the order they are told."""
        self.tracing = tracing
        """Whether the app makes OpenTelemetry spans (read at build)."""
        self.services: list[Service] = self._declared_list(())
        """Background services run for the app's lifetime (registration is added when a PBX is
        configured); each is called with the :class:`~ivrhooks.runtime.Runtime`."""
        self.name = _module_name(sys._getframe(1).f_globals)
        """The module that created the app (its last name): part of the app's identity in the
        names of the action URLs it registers, so that two apps sharing a PBX differ."""
        self._env = env
        self._user_lifespan = lifespan
        self._server: Server | None = None
        self._server_error: str | None = None

    # -- introspection ----------------------------------------------------------------

    def path_of(self, route: Route) -> str:
        """The URL path a route is served (and registered) at."""
        return f"{self.declared.serving.path_prefix}/{route.name}"

    def scheme_of(self, route: Route) -> Scheme:
        """The auth scheme a route is served and registered with."""
        entry = self.runtime.manifest.get(route.name)
        assert entry is not None, f"route {route.name!r} is not in the manifest"
        return entry.scheme

    def credentials_for(self, route: Route) -> Credentials | None:
        """The credentials the PBX must send for ``route``; ``None`` for static ones."""
        entry = self.runtime.manifest.get(route.name)
        assert entry is not None, f"route {route.name!r} is not in the manifest"
        return entry.credentials

    # -- the composition root -----------------------------------------------------------

    def configure(
        self, environ: Mapping[str, str] | None = None, *, embedded_pbx: bool | None = None
    ) -> Config:
        """The configuration the app starts with: the code's, with the ``IVRHOOKS_*`` variables
        of ``environ`` laid over it (by default the process environment, or what ``env=`` said).
        ``embedded_pbx=True`` asks for the embedded fake PBX (as ``IVRHOOKS_EMBEDDED_PBX=true``
        does). Raises :class:`ConfigurationError` naming every variable or argument to change."""
        if environ is None:
            if self._env is True:
                environ = os.environ
            elif self._env is False:
                environ = {}
            else:
                environ = self._env
        declared = self.declared
        if embedded_pbx is not None:
            declared = dataclasses.replace(declared, embedded_pbx=embedded_pbx)
        return resolve(declared, environ)

    def manifest(self, config: Config | None = None) -> Manifest:
        """Every route as it is served and registered under ``config``."""
        config = config if config is not None else self.configure()
        return build_manifest(self.table, config, app_name=self.name, fallback=self._fallback)

    def check(self, config: Config | None = None) -> Manifest:
        """Everything the app would start with under ``config``, checked without serving: the
        manifest, and every route's verifier (static credential files are read). What ``ivrhooks
        plan``, ``sync`` and ``unregister`` check before they reach the PBX. Raises
        :class:`ConfigurationError`."""
        from ivrhooks.compose import build_verifiers  # the server wing: only when checking

        config = config if config is not None else self.configure()
        manifest = self.manifest(config)
        build_verifiers(manifest, config.auth, Secrets(config.secret, config.auth.previous_secret))
        return manifest

    def build(
        self,
        config: Config | None = None,
        *,
        services: Sequence[Service] | None = None,
        journal: CallJournal | None = None,
        resources: Mapping[str, Any] | None = None,
    ) -> Server:
        """A server for this app under ``config`` (default: :meth:`configure`), as an ASGI app.

        Registration is added when a PBX is configured, unless ``services`` (default: the app's
        ``services``) already has one. ``journal`` is the call journal the embedded fake PBX
        reads. ``resources`` stand in for declared resources by name (a test's fakes): those
        are not set up. The app's declaration is frozen from now on (adding a route, a fallback, a
        service or an observer raises :class:`ConfigurationError`); the app may be built again,
        as tests do. The composition itself is :func:`ivrhooks.compose.compose`.
        """
        from ivrhooks.compose import Parts, compose  # the server wing: only when serving

        lifespan = self._user_lifespan
        server = compose(
            Parts(
                table=self.table,
                name=self.name,
                state=self.state,
                fallback=self._fallback,
                lifespan=None if lifespan is None else (lambda: lifespan(self)),
                observers=tuple(self.observers),
                tracing=self.tracing,
                caches=tuple(self._caches.values()),
                resources=dict(self._resources),
                middleware=tuple(self._middleware),
                events={name: tuple(found) for name, found in self._events.items()},
            ),
            config if config is not None else self.configure(),
            list(self.services if services is None else services),
            journal=journal,
            resources=resources,
        )
        # Built: from now on the declaration is what is served and registered.
        self._built = True
        self.table.freeze()
        return server

    @property
    def runtime(self) -> Runtime:
        """The runtime of the server ``app`` itself serves as (built on first use)."""
        return self._default_server().runtime

    def _default_server(self) -> Server:
        if self._server is None:
            self._server = self.build()
        return self._server

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve as an ASGI app (``uvicorn module:app``): built from the environment on first
        use, which is the lifespan's startup when the server runs one."""
        server = self._server
        if server is None:
            try:
                server = self._default_server()
            except ConfigurationError as exc:
                await self._not_configured(str(exc), scope, receive, send)
                return
        await server(scope, receive, send)

    async def _not_configured(
        self, reason: str, scope: Scope, receive: Receive, send: Send
    ) -> None:
        from ivrhooks.server.responses import error_body, send_json

        if self._server_error != reason:
            self._server_error = reason
            logger.error("startup failed: %s", reason)
        if scope["type"] == "lifespan":
            await receive()
            await send({"type": "lifespan.startup.failed", "message": reason})
        elif scope["type"] == "http":
            await send_json(send, 503, error_body("not configured"))

    # -- the runtime's view, on the app ------------------------------------------------------

    @property
    def config(self) -> Config:
        return self.runtime.config

    @property
    def metrics(self) -> Metrics:
        """Prometheus series of this app, served at ``GET /metrics``."""
        return self.runtime.metrics

    @property
    def ready(self) -> bool:
        return self.runtime.status.ready

    @property
    def ready_reason(self) -> str:
        return self.runtime.status.reason
