"""``IVRHooks``: the application users decorate, and the ASGI app uvicorn serves.

Action-URL paths go straight to the pure-ASGI endpoint (``ivrhooks.endpoint``); everything else
(lifespan, ``/healthz``, ``/readyz``) is a small Starlette app around it.
"""

from __future__ import annotations

import contextlib
import types
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager
from typing import Any, TypeVar

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route as StarletteRoute
from starlette.types import Receive, Scope, Send

from ivrhooks.endpoint import ActionEndpoint, ServedRoute
from ivrhooks.errors import ConfigurationError
from ivrhooks.masks import parse_mask
from ivrhooks.request import MAX_BODY, Kind
from ivrhooks.routes import Handler, Route, RouteTable, route_name

__all__ = ["IVRHooks"]

F = TypeVar("F", bound=Handler)
Lifespan = Callable[["IVRHooks"], AbstractAsyncContextManager[Mapping[str, Any] | None]]


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
        deadline: float = 1.5,
        request_timeout: int = 2,
        path_prefix: str = "/hooks",
        lifespan: Lifespan | None = None,
        max_body: int = MAX_BODY,
        max_threads: int = 64,
    ) -> None:
        if isinstance(receptionists, str):
            raise ConfigurationError(
                f"receptionists={receptionists!r}: pass a list of extension numbers, "
                f"e.g. [{receptionists!r}]"
            )
        if not 0 < deadline < request_timeout:
            raise ConfigurationError(
                f"deadline={deadline}: the answer budget must be above 0 and below the PBX's "
                f"request_timeout ({request_timeout} s), or the PBX gives up before the fallback"
            )
        if not path_prefix.startswith("/") or path_prefix.endswith("/"):
            raise ConfigurationError(
                f"path_prefix={path_prefix!r}: start it with '/' and do not end it with '/'"
            )
        self.table = RouteTable(receptionists)
        self.deadline = deadline
        self.request_timeout = request_timeout
        self.path_prefix = path_prefix
        self.max_body = max_body
        self.state = types.SimpleNamespace()
        """Resources the lifespan sets up (a CRM client, a database pool) for handlers to use."""
        self.ready = True
        self.ready_reason = "ok"
        self._fallback: Handler | None = None
        self._user_lifespan = lifespan
        self._executor = ThreadPoolExecutor(max_threads, thread_name_prefix="ivrhooks-handler")
        self._served: dict[str, ServedRoute] | None = None
        self._endpoint: ActionEndpoint | None = None
        self._inner = Starlette(
            routes=[
                StarletteRoute("/healthz", self._healthz, methods=["GET"]),
                StarletteRoute("/readyz", self._readyz, methods=["GET"]),
            ],
            lifespan=self._lifespan,
        )

    # -- declaring routes --------------------------------------------------------------

    def dtmf(
        self,
        mask: str,
        *,
        receptionists: Iterable[str] | None = None,
        name: str | None = None,
    ) -> Callable[[F], F]:
        """Route DTMF input matching ``mask`` (e.g. ``"1;2;3000-4000"``) to the function."""
        return self._decorator("DTMF", mask, receptionists, name)

    def caller(
        self,
        mask: str,
        *,
        receptionists: Iterable[str] | None = None,
        name: str | None = None,
    ) -> Callable[[F], F]:
        """Route callers whose number matches ``mask`` (e.g. ``"5551234;*****"``)."""
        return self._decorator("CALLER", mask, receptionists, name)

    def fallback(self, handler: F) -> F:
        """The decision when a handler fails, overruns or does not fit; default ``repeat()``."""
        if self._fallback is not None:
            raise ConfigurationError("the app already has a fallback; there can be only one")
        self._fallback = handler
        self._served = None
        return handler

    def _decorator(
        self, kind: Kind, mask: str, receptionists: Iterable[str] | None, name: str | None
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
            )
            if not (narrowed or self.table.receptionists):
                raise ConfigurationError(
                    f"route {route.name!r} serves no receptionist: pass "
                    "IVRHooks(receptionists=[...]) or receptionists=[...] to the decorator"
                )
            self.table.add(route)
            self._served = None
            return handler

        return register

    # -- introspection ----------------------------------------------------------------

    @property
    def routes(self) -> list[Route]:
        return self.table.routes

    def path_of(self, route: Route) -> str:
        """The URL path a route is served (and registered) at."""
        return f"{self.path_prefix}/{route.name}"

    # -- serving ------------------------------------------------------------------------

    def _compile(self) -> dict[str, ServedRoute]:
        served = {
            self.path_of(route): ServedRoute(route, frozenset(self.table.receptionists_of(route)))
            for route in self.table
        }
        self._endpoint = ActionEndpoint(
            budget=self.deadline,
            fallback=self._fallback,
            executor=self._executor,
            max_body=self.max_body,
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
        try:
            if self._user_lifespan is None:
                yield
            else:
                async with self._user_lifespan(self) as state:
                    for key, value in (state or {}).items():
                        setattr(self.state, key, value)
                    yield
        finally:
            self._executor.shutdown(wait=False, cancel_futures=True)

    async def _healthz(self, request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def _readyz(self, request: Request) -> Response:
        if self.ready:
            return JSONResponse({"status": "ready"})
        return JSONResponse({"status": "not ready", "reason": self.ready_reason}, status_code=503)
