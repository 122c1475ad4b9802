"""What an app's handlers share: resources, middleware and caches, and the event handlers that
use them too, declared before the app starts."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from ivrhooks.app.frozen import Frozen
from ivrhooks.cache import Cache
from ivrhooks.core.resources import Factory
from ivrhooks.core.runner import Middleware
from ivrhooks.errors import ConfigurationError

__all__ = ["Shares"]

R = TypeVar("R", bound=Factory)
M = TypeVar("M", bound=Callable[..., Any])
E = TypeVar("E", bound=Callable[..., Any])


class Shares(Frozen):
    """The decorators for what handlers share, and what they recorded."""

    def __init__(self) -> None:
        super().__init__()
        self._resources: dict[str, Factory] = {}
        self._middleware: list[Middleware] = []
        self._caches: dict[str, Cache] = {}
        self._events: dict[str, list[Callable[..., Any]]] = {}

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

    @property
    def event_types(self) -> tuple[str, ...]:
        """The event types the app's ``@app.event`` handlers take (``"*"`` among them when
        one takes every type)."""
        return tuple(name for name, found in self._events.items() if found)

    def event(self, *types: str) -> Callable[[E], E]:
        """Handle PortSIP's CDR and extension events of these types (``"call_cdr"``,
        ``"cdr_target_answer"``, ``"extension_presence"``, ...; ``"*"``: every type, those
        PortSIP adds later included) with ``async def (event)``, resources injected by
        parameter name as for routes. The PBX posts them to ``/events/cdr`` and
        ``/events/extension``; they are stored, deduplicated and handled in the background, at
        least once: a handler that raises is retried, then kept as dead (``ivrhooks events
        dead``). A CDR event carries the call's routing decisions, ``event.decisions``
        (docs/events.md)."""
        from ivrhooks.events.dispatch import ALL, CDR_TYPES, EXTENSION_TYPES, known_type

        self._check_open("add an event handler")
        if not types:
            raise ConfigurationError(
                "@app.event needs the event types it handles, e.g. @app.event('call_cdr'), or "
                "@app.event('*') for every type"
            )
        for name in types:
            if not isinstance(name, str) or not known_type(name):
                raise ConfigurationError(
                    f"@app.event({name!r}): not an event type PortSIP documents; choose from "
                    f"{', '.join((*CDR_TYPES, *EXTENSION_TYPES))}, or {ALL!r} for every type"
                )

        def register(handler: E) -> E:
            self._check_open("add an event handler")
            checked: object = handler
            if not inspect.iscoroutinefunction(checked):
                raise ConfigurationError(
                    f"@app.event handler {getattr(handler, '__name__', handler)!r}: give an "
                    "async function `async def (event)`"
                )
            for name in dict.fromkeys(types):
                self._events.setdefault(name, []).append(handler)
            return handler

        return register
