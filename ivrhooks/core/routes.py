"""Routes: which handler answers which mask, on which receptionists, and the table that holds them.

A route is one decorated function: a kind (``DTMF`` or ``CALLER``), a mask, the receptionists it
serves and its auth scheme. Each route is served at its own path (``/hooks/<name>``) and registered
as its own action URL, so the PBX's request already names the route; the table's mask indexes refuse
overlapping routes and answer ``routes --explain``.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from ivrhooks.core.auth.static import StaticCredentials
from ivrhooks.core.masks import Mask, MaskIndex
from ivrhooks.core.masks.complement import complement
from ivrhooks.core.request import Handler
from ivrhooks.core.types import EXTENSION_RULE, Kind, Scheme, is_extension
from ivrhooks.errors import ConfigurationError, RouteConflictError

__all__ = ["Handler", "Route", "RouteTable", "check_extension", "route_name"]

# Route names end up in URL paths and in action-URL names ("ivrhooks:<name>", at most 64
# characters on the PBX, with room for a "#NN" suffix when a long mask is split).
_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,47}")


def route_name(handler: Handler, name: str | None) -> str:
    """The route's name: the one given, or the function's name in lower case."""
    candidate = name if name is not None else getattr(handler, "__name__", "").lower()
    if not _NAME.fullmatch(candidate):
        where = "name=" if name is not None else f"the function name {candidate!r}"
        raise ConfigurationError(
            f"route name {candidate!r} (from {where}) must be 1-48 characters of a-z, 0-9, '_' "
            "or '-', starting with a letter or digit; pass name='...' to the decorator"
        )
    return candidate


def check_extension(number: str) -> str:
    """Validate a receptionist's extension number against the PBX's pattern."""
    if not is_extension(number):
        raise ConfigurationError(
            f"receptionist {number!r} is not an extension number: use {EXTENSION_RULE}, as a string"
        )
    return number


@dataclass(frozen=True, eq=False, slots=True)
class Route:
    """One decorated handler and where it applies."""

    name: str
    kind: Kind
    mask: Mask
    handler: Handler
    receptionists: tuple[str, ...] | None = None
    """The receptionists this route is narrowed to; ``None`` means all of the app's."""
    auth: Scheme | None = None
    """This route's auth scheme; ``None`` means the app's."""
    credentials: StaticCredentials | None = None
    """Static credentials for an action URL configured by hand (see ``ivrhooks.auth``)."""
    fallback: Handler | None = None
    """This route's own fallback; ``None`` means the app's (``@app.fallback``)."""
    otherwise: int | None = None
    """``@app.otherwise``: the longest DTMF input it answers. Its mask on each receptionist is
    what the app's other DTMF routes leave there (:meth:`RouteTable.mask_on`)."""

    @property
    def is_async(self) -> bool:
        return inspect.iscoroutinefunction(self.handler)

    @property
    def shown_mask(self) -> str:
        """The mask as a person reads it (``otherwise (1-6 digits)`` for "anything else")."""
        if self.otherwise is not None:
            return f"otherwise (1-{self.otherwise} digits)"
        return self.mask.text

    @property
    def function(self) -> str:
        """The handler's qualified name, for messages."""
        module = getattr(self.handler, "__module__", "?")
        return f"{module}.{getattr(self.handler, '__qualname__', self.name)}"


class RouteTable:
    """The app's routes, with one mask index per (receptionist, kind) that refuses overlaps."""

    def __init__(self, receptionists: Iterable[str] = ()) -> None:
        self._receptionists: tuple[str, ...] = tuple(check_extension(r) for r in receptionists)
        self._routes: dict[str, Route] = {}
        self._indexes: dict[tuple[str, Kind], MaskIndex[Route]] = {}
        self._otherwise: dict[str, Route] = {}
        self._complements: dict[tuple[str, str], Mask] = {}
        self._frozen = False

    @property
    def receptionists(self) -> tuple[str, ...]:
        """The app-wide receptionists (routes without their own list serve these)."""
        return self._receptionists

    @property
    def routes(self) -> list[Route]:
        return list(self._routes.values())

    def __iter__(self) -> Iterator[Route]:
        return iter(self._routes.values())

    def __len__(self) -> int:
        return len(self._routes)

    def receptionists_of(self, route: Route) -> tuple[str, ...]:
        """The receptionists a route serves."""
        return route.receptionists if route.receptionists is not None else self._receptionists

    def all_receptionists(self) -> tuple[str, ...]:
        """Every receptionist some route serves, the app's first, in a stable order."""
        seen = dict.fromkeys(self._receptionists)
        for route in self._routes.values():
            seen.update(dict.fromkeys(route.receptionists or ()))
        return tuple(seen)

    def freeze(self) -> None:
        """Refuse any further route: the app was built, and serves and registers what it has."""
        self._frozen = True

    def add(self, route: Route) -> None:
        """Add a route; refuses a duplicate name or a mask that overlaps another route's."""
        if self._frozen:
            raise ConfigurationError(
                f"cannot add route {route.name!r}: the app has started; declare routes before "
                "the app starts, at import time"
            )
        other = self._routes.get(route.name)
        if other is not None:
            raise ConfigurationError(
                f"two routes are named {route.name!r} ({other.function} and {route.function}); "
                "pass name='...' to one of the decorators"
            )
        if route.otherwise is not None:
            self._add_otherwise(route)
        else:
            self._index_route(route)
        self._complements.clear()  # what "otherwise" leaves depends on every route
        self._routes[route.name] = route

    def with_receptionists(self, receptionists: Iterable[str]) -> RouteTable:
        """A copy serving other app-wide receptionists (``IVRHOOKS_RECEPTIONISTS``), re-checked
        for overlaps; this table is left as it is."""
        table = RouteTable(receptionists)
        for route in self._routes.values():
            table.add(route)
        return table

    def lookup(self, receptionist: str, kind: Kind, value: str) -> tuple[Route, str] | None:
        """The route that takes ``value`` on ``receptionist``, and the mask entry that matched
        (``"otherwise"`` when no other route takes it and ``@app.otherwise`` does)."""
        index = self._indexes.get((receptionist, kind))
        found = index.lookup(value) if index is not None else None
        if found is None and kind == "DTMF":
            other = self._otherwise.get(receptionist)
            if other is not None and self.mask_on(other, receptionist).matches(value):
                return other, "otherwise"
        return found

    def mask_on(self, route: Route, receptionist: str) -> Mask:
        """The mask ``route`` answers on ``receptionist``: its own, or, for "otherwise", every
        DTMF input of 1 to ``otherwise`` digits that the other routes there leave."""
        if route.otherwise is None:
            return route.mask
        key = (route.name, receptionist)
        found = self._complements.get(key)
        if found is None:
            index = self._indexes.get((receptionist, "DTMF"))
            taken = index.masks() if index is not None else ()
            left = complement(taken, route.otherwise)
            if left is None:
                raise ConfigurationError(
                    f"route {route.name!r} ({route.function}) answers 'otherwise' on receptionist "
                    f"{receptionist}, but the app's other DTMF routes there leave nothing of 1 to "
                    f"{route.otherwise} digits (one of them takes ALL)"
                )
            found = self._complements[key] = left
        return found

    def _add_otherwise(self, route: Route) -> None:
        receptionists = self.receptionists_of(route)
        for receptionist in receptionists:
            other = self._otherwise.get(receptionist)
            if other is not None:
                raise RouteConflictError(
                    f"routes {other.name!r} ({other.function}) and {route.name!r} "
                    f"({route.function}) both answer 'otherwise' on receptionist {receptionist}; "
                    "keep one, or narrow them with receptionists=[...]"
                )
        for receptionist in receptionists:
            self._otherwise[receptionist] = route

    def _index_route(self, route: Route) -> None:
        receptionists = self.receptionists_of(route)
        # Check every index first so a refused route leaves no partial state behind.
        for receptionist in receptionists:
            index = self._indexes.get((receptionist, route.kind))
            found = index.conflict(route.mask) if index is not None else None
            if found is not None:
                other, sample = found
                raise RouteConflictError(
                    f"routes {other.name!r} ({other.function}) and {route.name!r} "
                    f"({route.function}) both match {route.kind} input {sample!r} on receptionist "
                    f"{receptionist}; the PBX's behaviour with overlapping action URLs is "
                    "undefined, so narrow one of the masks"
                )
        for receptionist in receptionists:
            key = (receptionist, route.kind)
            index = self._indexes.get(key)
            if index is None:
                index = self._indexes[key] = MaskIndex(route.kind)
            index.add(route.mask, route)
