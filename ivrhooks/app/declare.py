"""What an app declares: routes, fallbacks, resources, middleware and caches, frozen once built.

:class:`Declarations` is the half of :class:`~ivrhooks.app.IVRHooks` a user writes against at
import time: every decorator checks what it is given at once (a bad mask, a bad argument, a
duplicate) and records it; nothing runs and nothing is read from the environment. Once the app
is built (``build()``, ``ivrhooks run``, the server's lifespan) the declaration is what is served
and registered, so any further declaration raises :class:`ConfigurationError`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from typing import Any, SupportsIndex, TypeVar

from ivrhooks.cache import Cache
from ivrhooks.core.auth.static import StaticCredentials
from ivrhooks.core.decisions import Decision
from ivrhooks.core.masks import Mask, parse_mask
from ivrhooks.core.request import ActionRequest, Handler
from ivrhooks.core.resources import Factory
from ivrhooks.core.routes import Route, RouteTable, route_name
from ivrhooks.core.runner import Middleware
from ivrhooks.core.types import SCHEMES, Kind, Scheme
from ivrhooks.errors import ConfigurationError

__all__ = ["Declarations", "Fallback"]

# Handlers and middleware may take resources after their own parameters, so the decorators
# accept any callable and return it unchanged (its parameters are checked when the app is built).
F = TypeVar("F", bound=Callable[..., Any])
R = TypeVar("R", bound=Factory)
M = TypeVar("M", bound=Callable[..., Any])
T = TypeVar("T")

Fallback = Decision | Handler
"""A route's own fallback: a decision (``call("0")``), or a handler ``(req) -> Decision``."""


class _Declarations(list[T]):
    """A list of declarations (the app's services, its observers) that refuses changes once the
    app is built, as the decorators do."""

    def __init__(self, items: Iterable[T], frozen: Callable[[str], None]) -> None:
        super().__init__(items)
        self._frozen = frozen

    def append(self, item: T) -> None:
        self._frozen("add to this list")
        super().append(item)

    def extend(self, items: Iterable[T]) -> None:
        self._frozen("add to this list")
        super().extend(items)

    def insert(self, index: SupportsIndex, item: T) -> None:
        self._frozen("add to this list")
        super().insert(index, item)

    def __iadd__(self, items: Iterable[T]) -> _Declarations[T]:  # type: ignore[override,misc]
        self._frozen("add to this list")
        return super().__iadd__(items)


def _answering(decision: Decision, route: str) -> Handler:
    """A fallback that is a decision: a handler returning it, named after it for the logs."""

    async def answer(req: ActionRequest) -> Decision:
        return decision

    answer.__name__ = answer.__qualname__ = f"{route}_fallback"
    return answer


class Declarations:
    """The decorators of an app and what they recorded."""

    def __init__(self, receptionists: tuple[str, ...], *, allow_no_auth: bool) -> None:
        self.table = RouteTable(receptionists)
        """The declared routes."""
        self._allow_no_auth = allow_no_auth
        self._fallback: Handler | None = None
        self._resources: dict[str, Factory] = {}
        self._middleware: list[Middleware] = []
        self._caches: dict[str, Cache] = {}
        self._built = False

    def _check_open(self, what: str) -> None:
        """Declarations are frozen once the app is built: a route added later would be served
        but never registered (or registered but never served)."""
        if self._built:
            raise ConfigurationError(
                f"cannot {what}: the app has started (built by build(), `ivrhooks run` or the "
                "server's lifespan); declare routes, fallbacks, resources, middleware, caches, "
                "services and observers before the app starts, at import time"
            )

    def _declared_list(self, items: Iterable[T]) -> list[T]:
        return _Declarations(items, self._check_open)

    # -- routes --------------------------------------------------------------------------

    def dtmf(
        self,
        mask: str,
        *,
        receptionists: Iterable[str] | None = None,
        name: str | None = None,
        auth: Scheme | None = None,
        credentials: StaticCredentials | None = None,
        fallback: Fallback | None = None,
    ) -> Callable[[F], F]:
        """Route DTMF input matching ``mask`` (e.g. ``"1;2;3000-4000"``) to the function.

        ``receptionists`` narrows the route; ``auth`` overrides the app's scheme; ``credentials``
        are static ones for an action URL configured by hand (such routes are not registered);
        ``fallback`` answers for this route when its handler cannot (else ``@app.fallback``).
        """
        return self._decorator("DTMF", mask, receptionists, name, auth, credentials, fallback)

    def caller(
        self,
        mask: str,
        *,
        receptionists: Iterable[str] | None = None,
        name: str | None = None,
        auth: Scheme | None = None,
        credentials: StaticCredentials | None = None,
        fallback: Fallback | None = None,
    ) -> Callable[[F], F]:
        """Route callers whose number matches ``mask`` (e.g. ``"5551234;*****"``)."""
        return self._decorator("CALLER", mask, receptionists, name, auth, credentials, fallback)

    def otherwise(
        self,
        *,
        receptionists: Iterable[str] | None = None,
        max_digits: int = 6,
        name: str | None = None,
        auth: Scheme | None = None,
        fallback: Fallback | None = None,
    ) -> Callable[[F], F]:
        """Route DTMF input of 1 to ``max_digits`` digits that no other route of this app takes
        on the receptionist ("key 1 for sales, anything else to the operator").

        Registered as the masks PortSIP understands (what the other DTMF masks leave, split over
        several action URLs where one mask would pass 255 characters), so that no two action
        URLs on a receptionist match the same input. Keyed ``*`` and ``#`` are not digits: only
        an ``ALL`` mask matches them, so "otherwise" leaves them to the receptionist's menu.
        """
        if isinstance(max_digits, bool) or not isinstance(max_digits, int):
            raise ConfigurationError(f"max_digits={max_digits!r}: give a whole number, e.g. 6")
        stand_in = parse_mask("ALL", "DTMF")  # its real masks: RouteTable.mask_on
        return self._decorator(
            "DTMF", stand_in, receptionists, name, auth, None, fallback, otherwise=max_digits
        )

    def fallback(self, handler: F) -> F:
        """The decision when a handler fails, overruns or does not fit, for every route without
        a fallback of its own; default ``repeat()``. ``req.failure`` says why it runs."""
        self._check_open("set the fallback")
        if self._fallback is not None:
            raise ConfigurationError("the app already has a fallback; there can be only one")
        self._fallback = handler
        return handler

    def _decorator(
        self,
        kind: Kind,
        mask: str | Mask,
        receptionists: Iterable[str] | None,
        name: str | None,
        auth: Scheme | None,
        credentials: StaticCredentials | None,
        fallback: Fallback | None,
        *,
        otherwise: int | None = None,
    ) -> Callable[[F], F]:
        self._check_open("add a route")
        parsed = parse_mask(mask, kind) if isinstance(mask, str) else mask  # MaskError now
        narrowed = None
        if receptionists is not None:
            if isinstance(receptionists, str):
                raise ConfigurationError(
                    f"receptionists={receptionists!r}: pass a list, e.g. [{receptionists!r}]"
                )
            narrowed = tuple(receptionists)
        if auth is not None and auth not in SCHEMES:
            raise ConfigurationError(f"auth={auth!r}: choose 'basic', 'digest', 'bearer' or 'none'")
        if auth == "none" and not self._allow_no_auth:
            raise ConfigurationError(
                "auth='none' needs IVRHooks(allow_no_auth=True): without it anyone who can reach "
                "the service drives this receptionist"
            )
        if credentials is not None and not isinstance(credentials, StaticCredentials):
            raise ConfigurationError(f"credentials={credentials!r}: give StaticCredentials(...)")
        if fallback is not None and not isinstance(fallback, Decision) and not callable(fallback):
            raise ConfigurationError(
                f"fallback={fallback!r}: give a decision (call('0'), hangup(), repeat()) or a "
                "handler (req) -> decision"
            )

        def register(handler: F) -> F:
            self._check_open("add a route")
            named = route_name(handler, name)
            own = _answering(fallback, named) if isinstance(fallback, Decision) else fallback
            route = Route(
                name=named,
                kind=kind,
                mask=parsed,
                handler=handler,
                receptionists=narrowed,
                auth=auth,
                credentials=credentials,
                fallback=own,
                otherwise=otherwise,
            )
            self.table.add(route)
            return handler

        return register

    # -- what handlers share ---------------------------------------------------------------

    def resource(self, factory: R) -> R:
        """Declare a resource named after the function: an async generator that sets it up,
        ``yield``\\ s it, and tears it down after. Handlers receive it as a keyword parameter
        of that name (``async def account(req, crm: CRMClient)``). Set up before the app serves,
        in declaration order (a resource may name earlier ones as its own parameters); torn
        down after, in reverse order. See :mod:`ivrhooks.core.resources`."""
        self._check_open("add a resource")
        name = getattr(factory, "__name__", "")
        checked: object = factory  # (the check narrows its type; the decorator returns it as is)
        if not inspect.isasyncgenfunction(checked):
            raise ConfigurationError(
                f"@app.resource {name or factory!r}: give an async generator function "
                "(`async def name(): ... yield value ...`)"
            )
        if not name.isidentifier() or name.startswith("_"):
            raise ConfigurationError(
                f"@app.resource {name!r}: the function's name names the resource; give it a "
                "plain name (handlers take it as a parameter of that name)"
            )
        if name in self._resources:
            raise ConfigurationError(f"the app already has a resource named {name!r}")
        self._resources[name] = factory
        return factory

    def middleware(self, function: M) -> M:
        """Run ``async def (req, call_next) -> Decision`` around every route's handler, inside
        the handler's deadline, outermost first in declaration order. It may answer itself
        without calling ``call_next`` (a blocklist); what it raises, or an overrun, goes to the
        route's fallback as a handler's would. It may take resources, as handlers do."""
        self._check_open("add middleware")
        checked: object = function
        if not inspect.iscoroutinefunction(checked):
            raise ConfigurationError(
                f"@app.middleware {getattr(function, '__name__', function)!r}: give an async "
                "function `async def (req, call_next) -> Decision`"
            )
        self._middleware.append(function)
        return function

    def cache(
        self,
        name: str,
        *,
        ttl: float = 300.0,
        stale: float = 3600.0,
        miss_ttl: float = 30.0,
        maxsize: int = 10_000,
        load_timeout: float = 10.0,
    ) -> Cache:
        """A named cache for handlers: ``await cache.get(key, loader)`` (docs/cache.md).

        A value is fresh for ``ttl`` seconds, then served stale for ``stale`` more while it is
        refreshed; a miss (``None``) is kept ``miss_ttl``; at most ``maxsize`` keys per process;
        a load runs at most ``load_timeout`` seconds, finishing in the background when the
        handler's deadline ends first. Shared by every replica with ``IVRHOOKS_REDIS_URL``.
        """
        self._check_open("add a cache")
        made = Cache(
            name,
            ttl=ttl,
            stale=stale,
            miss_ttl=miss_ttl,
            maxsize=maxsize,
            load_timeout=load_timeout,
        )
        if name in self._caches:
            raise ConfigurationError(f"the app already has a cache named {name!r}; name it apart")
        self._caches[name] = made
        return made

    # -- introspection ----------------------------------------------------------------

    @property
    def routes(self) -> list[Route]:
        return self.table.routes
