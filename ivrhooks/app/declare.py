"""What an app declares: routes, fallbacks, resources, middleware and caches, frozen once built.

:class:`Declarations` is the half of :class:`~ivrhooks.app.IVRHooks` a user writes against at
import time: every decorator checks what it is given at once (a bad mask, a bad argument, a
duplicate) and records it; nothing runs and nothing is read from the environment. Once the app
is built (``build()``, ``ivrhooks run``, the server's lifespan) the declaration is what is served
and registered, so any further declaration raises :class:`ConfigurationError`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from ivrhooks.app.shared import Shares
from ivrhooks.core.auth.static import StaticCredentials
from ivrhooks.core.decisions import Decision
from ivrhooks.core.masks import Mask, parse_mask
from ivrhooks.core.request import ActionRequest, Handler
from ivrhooks.core.resources import Factory
from ivrhooks.core.routes import Route, RouteTable, route_name
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


def _answering(decision: Decision, route: str) -> Handler:
    """A fallback that is a decision: a handler returning it, named after it for the logs."""

    async def answer(req: ActionRequest) -> Decision:
        return decision

    answer.__name__ = answer.__qualname__ = f"{route}_fallback"
    return answer


class Declarations(Shares):
    """The decorators of an app and what they recorded."""

    def __init__(self, receptionists: tuple[str, ...], *, allow_no_auth: bool) -> None:
        super().__init__()
        self.table = RouteTable(receptionists)
        """The declared routes."""
        self._allow_no_auth = allow_no_auth
        self._fallback: Handler | None = None

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

    # -- introspection ----------------------------------------------------------------

    @property
    def routes(self) -> list[Route]:
        return self.table.routes
