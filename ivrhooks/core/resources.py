"""Resources: what handlers share (a CRM client, a database pool), set up once for the app.

A resource is declared with ``@app.resource`` on an async generator function and named after
it; what it yields is handed to every handler that names it as a keyword parameter::

    @app.resource
    async def crm():
        async with CRMClient("http://crm:8900") as client:
            yield client

    @app.dtmf("3000-4000")
    async def account(req: ActionRequest, crm: CRMClient): ...

They are set up before the app serves, in declaration order (a resource may name earlier ones
as its own parameters), and torn down after it stops, in reverse order. Which resources a
handler needs is read from its signature once, when the app is built: a parameter that names
no resource fails the build, naming the handler and the parameter; at a call the handler gets
a dict made once at startup, so a handler that needs none is called exactly as before. Tests
replace resources by name (``running(app, resources={"crm": fake})``): a replaced resource is
not set up at all.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

from ivrhooks.errors import ConfigurationError, ResourceError

__all__ = ["Factory", "Resources", "bind", "needs"]

Factory = Callable[..., AsyncIterator[Any]]
"""A resource: an async generator function that yields the value once."""


def _describe(function: Callable[..., Any]) -> str:
    module = getattr(function, "__module__", "?")
    return f"{module}.{getattr(function, '__qualname__', repr(function))}"


def needs(
    function: Callable[..., Any], declared: Mapping[str, Factory], *, skip: int
) -> tuple[str, ...]:
    """The resources ``function`` takes as keyword parameters, after its first ``skip``
    positional ones (the request, or the request and ``call_next``); a parameter without a
    default that names no resource is a :class:`ConfigurationError` naming both."""
    try:
        parameters = list(inspect.signature(function).parameters.values())
    except (TypeError, ValueError):
        return ()  # a builtin or an object without a signature: called with the request only
    wanted: list[str] = []
    for parameter in parameters[skip:]:
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        if parameter.name in declared:
            wanted.append(parameter.name)
        elif parameter.default is parameter.empty:
            known = ", ".join(sorted(declared)) or "none is declared"
            raise ConfigurationError(
                f"{_describe(function)}: parameter {parameter.name!r} names no resource "
                f"(resources: {known}); declare it with @app.resource, or give it a default"
            )
    return tuple(wanted)


class Resources:
    """The app's declared resources, and their values once set up."""

    def __init__(self, declared: Mapping[str, Factory]) -> None:
        self.declared = dict(declared)
        earlier: dict[str, Factory] = {}
        for name, factory in self.declared.items():
            try:
                needs(factory, earlier, skip=0)  # a resource may name the ones before it
            except ConfigurationError as exc:
                raise ConfigurationError(f"resource {name!r}: {exc}") from None
            earlier[name] = factory
        self.values: dict[str, Any] = {}
        self._bound: list[tuple[dict[str, Any], tuple[str, ...]]] = []

    def bind(self, function: Callable[..., Any], *, skip: int = 1) -> Callable[..., Any]:
        """``function`` with its resources passed by name: itself when it needs none."""
        wanted = needs(function, self.declared, skip=skip)
        if not wanted:
            return function
        kwargs: dict[str, Any] = {}
        self._bound.append((kwargs, wanted))
        if self.values:  # already set up (a server built while another one runs)
            kwargs.update({name: self.values[name] for name in wanted if name in self.values})
        return bind(function, kwargs)

    @contextlib.asynccontextmanager
    async def running(self, overrides: Mapping[str, Any] | None = None) -> AsyncIterator[None]:
        """Set every resource up (``overrides`` stand in for some, by name), hand the values to
        the bound handlers, and tear them down in reverse order on the way out."""
        overrides = dict(overrides or {})
        unknown = sorted(set(overrides) - set(self.declared))
        if unknown:
            raise ConfigurationError(
                f"resources={{{', '.join(repr(n) for n in unknown)}: ...}}: the app declares no "
                f"such resource (it has: {', '.join(sorted(self.declared)) or 'none'})"
            )
        async with contextlib.AsyncExitStack() as stack:
            values: dict[str, Any] = {}
            for name, factory in self.declared.items():
                if name in overrides:
                    values[name] = overrides[name]
                    continue
                values[name] = await _set_up(stack, name, factory, values)
            self.values = values
            for kwargs, wanted in self._bound:
                kwargs.update({name: values[name] for name in wanted})
            try:
                yield
            finally:
                self.values = {}
                for kwargs, _ in self._bound:
                    kwargs.clear()


async def _set_up(
    stack: contextlib.AsyncExitStack, name: str, factory: Factory, ready: Mapping[str, Any]
) -> Any:
    """Enter one resource, with the earlier ones it names; one line naming it when it fails."""
    try:
        kwargs = {wanted: ready[wanted] for wanted in needs(factory, ready, skip=0)}
    except ConfigurationError as exc:
        raise ResourceError(f"resource {name!r}: {exc}") from None
    try:
        return await stack.enter_async_context(contextlib.asynccontextmanager(factory)(**kwargs))
    except Exception as exc:
        text = str(exc)
        raise ResourceError(
            f"resource {name!r} ({_describe(factory)}) failed to set up: "
            f"{type(exc).__name__}{': ' + text if text else ''}"
        ) from exc


def bind(function: Callable[..., Any], kwargs: Mapping[str, Any]) -> Callable[..., Any]:
    """``function(request, ...)`` called with ``kwargs`` too (filled when the app starts)."""

    def bound(*args: Any) -> Any:
        return function(*args, **kwargs)

    bound.__wrapped__ = function  # type: ignore[attr-defined]  # blame and spans see the user's
    return bound
