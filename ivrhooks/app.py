"""``IVRHooks``: the application users decorate, and the ASGI app uvicorn serves.

Action-URL paths go straight to the pure-ASGI endpoint (``ivrhooks.endpoint``); everything else
(lifespan, ``/healthz``, ``/readyz``) is a small Starlette app around it.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import types
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager
from typing import Any, Literal, TypeVar

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route as StarletteRoute
from starlette.types import Receive, Scope, Send

from ivrhooks.auth import (
    Authenticator,
    AuthGuard,
    Credentials,
    ReplayStore,
    Scheme,
    StaticCredentials,
)
from ivrhooks.config import resolve_config
from ivrhooks.endpoint import ActionEndpoint, ServedRoute
from ivrhooks.errors import ConfigurationError
from ivrhooks.masks import parse_mask
from ivrhooks.metrics import Metrics, metrics_app
from ivrhooks.observe import RequestObserver
from ivrhooks.request import MAX_BODY, Kind
from ivrhooks.route_auth import RouteAuth
from ivrhooks.routes import Handler, Route, RouteTable, route_name

__all__ = ["IVRHooks"]

F = TypeVar("F", bound=Handler)
Lifespan = Callable[["IVRHooks"], AbstractAsyncContextManager[Mapping[str, Any] | None]]
Service = Callable[["IVRHooks"], AbstractAsyncContextManager[None]]

logger = logging.getLogger("ivrhooks")


class IVRHooks:
    """A PortSIP action-URL receiver: decorate handlers, then serve it as an ASGI app.

    ::

        app = IVRHooks(receptionists=["8000"])

        @app.dtmf("1;2;3000-4000")
        async def sales(req: ActionRequest):
            return call("2001")
    """

    def __init__(
        self,
        receptionists: Iterable[str] = (),
        *,
        auth: Scheme = "basic",
        secret: str | None = None,
        previous_secret: str | None = None,
        allow_no_auth: bool = False,
        digest_algorithms: Sequence[str] = ("MD5",),
        realm: str = "ivrhooks",
        allow: Sequence[str] = (),
        trusted_proxies: Sequence[str] = (),
        replay_store: ReplayStore | None = None,
        public_url: str | None = None,
        method: Literal["GET", "POST"] = "POST",
        request_timeout: int = 2,
        deadline: float = 1.5,
        reconcile_interval: float = 300.0,
        pbx_url: str | None = None,
        pbx_username: str | None = None,
        pbx_password: str | None = None,
        pbx_domain: str | None = None,
        pbx_token: str | None = None,
        pbx_verify_tls: bool = True,
        path_prefix: str = "/hooks",
        lifespan: Lifespan | None = None,
        max_body: int = MAX_BODY,
        max_threads: int = 64,
        freeze_gc: bool = False,
        env: bool | Mapping[str, str] = True,
    ) -> None:
        """Arguments are the code's configuration; ``IVRHOOKS_*`` variables override them
        (``env=False`` ignores the environment; a mapping stands in for it in tests)."""
        if isinstance(receptionists, str):
            raise ConfigurationError(
                f"receptionists={receptionists!r}: pass a list of extension numbers, "
                f"e.g. [{receptionists!r}]"
            )
        if not path_prefix.startswith("/") or path_prefix.endswith("/"):
            raise ConfigurationError(
                f"path_prefix={path_prefix!r}: start it with '/' and do not end it with '/'"
            )
        self.config = resolve_config(
            {
                "receptionists": tuple(receptionists),
                "auth": auth,
                "secret": secret,
                "previous_secret": previous_secret,
                "public_url": public_url,
                "method": method,
                "request_timeout": request_timeout,
                "deadline": deadline,
                "reconcile_interval": reconcile_interval,
                "pbx_url": pbx_url,
                "pbx_username": pbx_username,
                "pbx_password": pbx_password,
                "pbx_domain": pbx_domain,
                "pbx_token": pbx_token,
                "pbx_verify_tls": pbx_verify_tls,
                "allow": tuple(allow),
                "trusted_proxies": tuple(trusted_proxies),
            },
            env,
        )
        self.auth = RouteAuth(
            self.config,
            realm=realm,
            allow_no_auth=allow_no_auth,
            digest_algorithms=digest_algorithms,
            replay_store=replay_store,
        )
        self.table = RouteTable(self.config.receptionists)
        self.deadline = self.config.deadline
        self.request_timeout = self.config.request_timeout
        self.path_prefix = path_prefix
        self.max_body = max_body
        self.guard = AuthGuard(allow=self.config.allow, trusted_proxies=self.config.trusted_proxies)
        self.metrics = Metrics()
        """Prometheus series of this app, served at ``GET /metrics``."""
        self._observer = RequestObserver(self.metrics)
        self.state = types.SimpleNamespace()
        """Resources the lifespan sets up (a CRM client, a database pool) for handlers to use."""
        self.ready = True
        self.ready_reason = "ok"
        self.services: list[Service] = []
        """Background services run for the app's lifetime (registration adds itself here)."""
        self._fallback: Handler | None = None
        self._user_lifespan = lifespan
        self._max_threads = max_threads
        self.freeze_gc = freeze_gc
        """After startup, move every object alive into the GC's permanent generation
        (``gc.freeze()``): route tables, masks and authenticators then never slow a full
        collection (~25 ms at 1,000 routes, ~100 ms at 10,000, paid by whichever request is in
        flight). ``ivrhooks run`` turns it on; it affects the whole process."""
        self._executor = self._new_executor()
        self._authenticators: dict[str, Authenticator | None] = {}
        self._served: dict[str, ServedRoute] | None = None
        self._endpoint: ActionEndpoint | None = None
        self._inner = Starlette(
            routes=[
                StarletteRoute("/healthz", self._healthz, methods=["GET"]),
                StarletteRoute("/readyz", self._readyz, methods=["GET"]),
                StarletteRoute("/metrics", metrics_app(self.metrics), methods=["GET", "HEAD"]),
            ],
            lifespan=self._lifespan,
        )

    def _new_executor(self) -> ThreadPoolExecutor:
        return ThreadPoolExecutor(self._max_threads, thread_name_prefix="ivrhooks-handler")

    # -- declaring routes --------------------------------------------------------------

    def dtmf(
        self,
        mask: str,
        *,
        receptionists: Iterable[str] | None = None,
        name: str | None = None,
        auth: Scheme | None = None,
        credentials: StaticCredentials | None = None,
    ) -> Callable[[F], F]:
        """Route DTMF input matching ``mask`` (e.g. ``"1;2;3000-4000"``) to the function.

        ``receptionists`` narrows the route; ``auth`` overrides the app's scheme; ``credentials``
        are static ones for an action URL configured by hand (such routes are not registered).
        """
        return self._decorator("DTMF", mask, receptionists, name, auth, credentials)

    def caller(
        self,
        mask: str,
        *,
        receptionists: Iterable[str] | None = None,
        name: str | None = None,
        auth: Scheme | None = None,
        credentials: StaticCredentials | None = None,
    ) -> Callable[[F], F]:
        """Route callers whose number matches ``mask`` (e.g. ``"5551234;*****"``)."""
        return self._decorator("CALLER", mask, receptionists, name, auth, credentials)

    def fallback(self, handler: F) -> F:
        """The decision when a handler fails, overruns or does not fit; default ``repeat()``."""
        if self._fallback is not None:
            raise ConfigurationError("the app already has a fallback; there can be only one")
        self._fallback = handler
        self._served = None
        return handler

    def _decorator(
        self,
        kind: Kind,
        mask: str,
        receptionists: Iterable[str] | None,
        name: str | None,
        auth: Scheme | None,
        credentials: StaticCredentials | None,
    ) -> Callable[[F], F]:
        parsed = parse_mask(mask, kind)  # raises MaskError now, at decoration time
        narrowed = None
        if receptionists is not None:
            if isinstance(receptionists, str):
                raise ConfigurationError(
                    f"receptionists={receptionists!r}: pass a list, e.g. [{receptionists!r}]"
                )
            narrowed = tuple(receptionists)

        def register(handler: F) -> F:
            route = Route(
                name=route_name(handler, name),
                kind=kind,
                mask=parsed,
                handler=handler,
                receptionists=narrowed,
                auth=auth,
                credentials=credentials,
            )
            if not (narrowed or self.table.receptionists):
                raise ConfigurationError(
                    f"route {route.name!r} serves no receptionist: pass "
                    "IVRHooks(receptionists=[...]) or receptionists=[...] to the decorator"
                )
            # Built now so a bad scheme or credential fails at decoration time.
            authenticator = self.auth.authenticator(route)
            self.table.add(route)
            self._authenticators[route.name] = authenticator
            self._served = None
            return handler

        return register

    # -- introspection ----------------------------------------------------------------

    def scheme_of(self, route: Route) -> Scheme:
        """The auth scheme a route is served and registered with."""
        return self.auth.scheme_of(route)

    def credentials_for(self, route: Route) -> Credentials | None:
        """The credentials the PBX must send for ``route``; ``None`` for static ones."""
        return self.auth.credentials_for(route)

    @property
    def routes(self) -> list[Route]:
        return self.table.routes

    def path_of(self, route: Route) -> str:
        """The URL path a route is served (and registered) at."""
        return f"{self.path_prefix}/{route.name}"

    # -- serving ------------------------------------------------------------------------

    def _compile(self) -> dict[str, ServedRoute]:
        served = {
            self.path_of(route): ServedRoute(
                route,
                frozenset(self.table.receptionists_of(route)),
                self._authenticators.get(route.name),
            )
            for route in self.table
        }
        self._endpoint = ActionEndpoint(
            budget=self.deadline,
            fallback=self._fallback,
            executor=self._executor,
            max_body=self.max_body,
            guard=self.guard,
            observer=self._observer,
        )
        self._served = served
        return served

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            served = self._served if self._served is not None else self._compile()
            path: str = scope["path"]
            root: str = scope.get("root_path", "")
            if root and path.startswith(root):
                path = path[len(root) :]
            route = served.get(path)
            if route is not None:
                assert self._endpoint is not None
                await self._endpoint(route, scope, receive, send)
                return
        await self._inner(scope, receive, send)

    @contextlib.asynccontextmanager
    async def _lifespan(self, _: Starlette) -> AsyncIterator[None]:
        self._compile()
        if self.config.secret_generated:
            logger.warning(
                "no IVRHOOKS_SECRET set: generated a random one for this process; action-URL "
                "credentials change on every start (set IVRHOOKS_SECRET for a real PBX)"
            )
        try:
            async with contextlib.AsyncExitStack() as stack:
                if self._user_lifespan is not None:
                    state = await stack.enter_async_context(self._user_lifespan(self))
                    for key, value in (state or {}).items():
                        setattr(self.state, key, value)
                if self.config.pbx is not None:
                    # Imported here: registration needs the PBX client, serving alone does not.
                    from ivrhooks.registration import Registration

                    if not any(isinstance(s, Registration) for s in self.services):
                        self.services.insert(0, Registration())
                for service in self.services:
                    await stack.enter_async_context(service(self))
                if self.freeze_gc:
                    gc.collect()
                    gc.freeze()
                yield
        finally:
            self._executor.shutdown(wait=False, cancel_futures=True)
            # A fresh pool (threads start lazily) so the same app object can be served again,
            # as tests and the pytest plugin do.
            self._executor = self._new_executor()
            self._served = None

    async def _healthz(self, request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def _readyz(self, request: Request) -> Response:
        if self.ready:
            return JSONResponse({"status": "ready"})
        return JSONResponse({"status": "not ready", "reason": self.ready_reason}, status_code=503)
