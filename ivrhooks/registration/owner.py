"""Who owns a managed action URL: the name scheme ``ivrhooks:<route>@<app>`` (``#<n>`` for the
second and later chunks of a long mask).

Several apps can share one PBX, even one receptionist: each writes, rewrites and deletes only the
entries named with its own identity. The identity is ``IVRHOOKS_APP_ID`` when set, otherwise six
characters derived from the app's module name and the public URL the PBX calls it at, so two
different apps differ by default while the replicas of one app (same code, same URL) agree.

An entry named with another identity (or none: ivrhooks 0.1's ``ivrhooks:<route>``) that
already calls the URL this app registers for its route is this app's, whoever named it: it is
adopted, renamed on the next reconcile. An app that moved to another public URL recognises its
entries from before (:class:`Moves`): their identity is the one its module derives at the URL
they call. Any other entry is left alone as another app's.

Entries of ``ivrhooks dev --pbx`` sessions (``ivrhooks-dev:...``, :mod:`.devnames`) are never
production's: left alone, whoever's they are, and an overlap with one is a warning (saying
whose session it is and when it ends), not a conflict. A conflict stops ``ivrhooks run``; a
developer's session, or one that crashed and left its entries until they expire, must never
stop production. The dev session is where such overlaps are refused (:mod:`.dev`).

How names are made and entries sorted is an :class:`Owner`: :data:`PRODUCTION` here, a dev
session's in :mod:`.dev`; the plan and the registration job take either.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from ivrhooks.manifest import DerivedAppId, derive_app_id
from ivrhooks.registration.devnames import parse_dev_name, until
from ivrhooks.schema.models import ActionUrl, ActionUrlCreate

__all__ = [
    "MANAGED_PREFIX",
    "PRODUCTION",
    "ManagedName",
    "Moves",
    "Owner",
    "Production",
    "Sorted",
    "derive_app_id",
    "entry_name",
    "parse_name",
    "sort_entries",
]

#: Every action URL ivrhooks writes is named with this prefix; no other entry is ever touched.
MANAGED_PREFIX = "ivrhooks:"

_NAME = re.compile(
    r"ivrhooks:(?P<route>[a-z0-9][a-z0-9_-]{0,47})"
    r"(?:@(?P<app>[a-z0-9]{1,8}))?"
    r"(?:#(?P<chunk>[1-9][0-9]{0,3}))?"
)


@dataclass(frozen=True, slots=True)
class ManagedName:
    """A parsed managed name."""

    route: str
    app: str | None
    """The owning app's identity; ``None`` for a name written by ivrhooks 0.1."""
    chunk: int


def entry_name(route: str, chunk: int, app_id: str) -> str:
    """``ivrhooks:<route>@<app>`` for a mask's first chunk, ``...#2`` onwards."""
    return f"{MANAGED_PREFIX}{route}@{app_id}" + ("" if chunk == 1 else f"#{chunk}")


def parse_name(name: str | None) -> ManagedName | None:
    """The route, owner and chunk of a managed name; ``None`` for any other name."""
    match = _NAME.fullmatch(name or "")
    if match is None:
        return None
    chunk = match.group("chunk")
    return ManagedName(match.group("route"), match.group("app"), int(chunk) if chunk else 1)


class Moves:
    """Recognises this app's entries registered from another public URL: named with the id
    its module derives at the public URL they call (their URL minus this app's path for the
    route). Only a derived identity can move: one set with ``IVRHOOKS_APP_ID`` stays the same
    wherever the app runs, and is never taken for another's."""

    def __init__(self, app_id: str, urls: Iterable[tuple[str, str]]) -> None:
        """``urls``: (route, URL) of the action URLs this app registers."""
        self._derived = app_id if isinstance(app_id, DerivedAppId) else None
        self._prefix: str | None = None
        base = (self._derived.public_url or "").rstrip("/") if self._derived else ""
        for route, url in urls if base else ():
            tail = "/" + route
            if url.startswith(base) and url.endswith(tail):
                self._prefix = url[len(base) : len(url) - len(tail)]  # "/hooks"
                break

    def origin(self, app: str | None, route: str, url: str | None) -> str | None:
        """The public URL the entry ``ivrhooks:<route>@<app>`` calling ``url`` was registered
        from by this app's module, or None when it is not this app's from elsewhere."""
        if self._derived is None or self._prefix is None or app is None or not url:
            return None
        path = f"{self._prefix}/{route}"
        if app == self._derived or not url.endswith(path) or len(url) == len(path):
            return None
        base = url[: len(url) - len(path)]
        # The public URL as it was configured, with or without a trailing '/'.
        return next((at for at in (base, base + "/") if self._derived.at(at) == app), None)


Owned = dict[str, list[ActionUrl]]


class Wanted(Protocol):
    """What sorting needs of a desired action URL (``desired.DesiredUrl``, which names its
    entries with this module's ``entry_name``)."""

    @property
    def route(self) -> str: ...
    @property
    def body(self) -> ActionUrlCreate: ...


@dataclass(frozen=True)
class Sorted:
    """The entries of one receptionist, by owner."""

    ours: Owned  # named with this app's identity, by name
    adopted: Owned  # this app's under another name, by the name they should have
    others: list[ActionUrl]  # other apps'
    by_hand: list[ActionUrl]  # made by people
    elsewhere: dict[str, str]  # of others: entry id -> public URL this app's module used there
    noted: list[tuple[ActionUrl, str]] = field(default_factory=list)
    """Left alone, and neither a person's nor another app's: each with what it is, for the
    warning an overlap gets (a dev session's entry, seen by production)."""
    reap: list[tuple[ActionUrl, str]] = field(default_factory=list)
    """This app's, to delete, each with why (a dev session's expired entries)."""
    refusals: list[str] = field(default_factory=list)
    """Why nothing may be written on this receptionist (a conflict, without an overlap)."""


class Owner(Protocol):
    """How an app names the entries it writes and sorts what a receptionist holds."""

    def name(self, route: str, chunk: int, app_id: str) -> str:
        """The name of ``route``'s chunk ``chunk`` (1-based) for the app ``app_id``."""
        ...

    def sort(
        self, desired: Mapping[str, Wanted], existing: Sequence[ActionUrl], app_id: str
    ) -> Sorted:
        """``existing`` (one receptionist's entries) by owner, against ``desired``."""
        ...


class Production:
    """The app's own registration: ``ivrhooks:<route>@<app>``, sorted by :func:`sort_entries`."""

    def name(self, route: str, chunk: int, app_id: str) -> str:
        return entry_name(route, chunk, app_id)

    def sort(
        self, desired: Mapping[str, Wanted], existing: Sequence[ActionUrl], app_id: str
    ) -> Sorted:
        return sort_entries(desired, existing, app_id)


#: The owner every registration has unless told otherwise.
PRODUCTION = Production()


def sort_entries(
    desired: Mapping[str, Wanted], existing: Sequence[ActionUrl], app_id: str
) -> Sorted:
    """This app's entries, those it adopts, other apps' and hand-made ones (for the plan).

    Adopted: an entry of another name (ivrhooks 0.1's, or another identity's) that calls the
    URL this app registers for its route, and this app's entries from another public URL
    (:class:`Moves`) when they hold exactly this app's routes and masks there: the app
    moved. Registered from elsewhere with other routes, they are another deployment of this
    app (or this app before a move that changed its routes): left alone, named in conflicts."""
    ours: Owned = {}
    adopted: Owned = {}
    others: list[ActionUrl] = []
    by_hand: list[ActionUrl] = []
    moves = Moves(app_id, ((w.route, str(w.body.url)) for w in desired.values()))
    moved: dict[str, list[ActionUrl]] = {}  # this app's from elsewhere, by their identity
    origins: dict[str, str] = {}
    noted: list[tuple[ActionUrl, str]] = []
    for entry in existing:
        dev = parse_dev_name(entry.name)
        if dev is not None:
            noted.append(
                (entry, f"an `ivrhooks dev` session's entry, {until(dev.expires, time.time())}")
            )
            continue
        parsed = parse_name(entry.name)
        if parsed is None:
            # Made by a person (or a managed-looking name we would not have written).
            (others if str(entry.name or "").startswith("ivrhooks:") else by_hand).append(entry)
            continue
        if parsed.app == app_id:
            ours.setdefault(str(entry.name), []).append(entry)
            continue
        name = entry_name(parsed.route, parsed.chunk, app_id)
        want = desired.get(name)
        origin = moves.origin(parsed.app, parsed.route, entry.url)
        if want is not None and entry.url == want.body.url:
            adopted.setdefault(name, []).append(entry)  # it calls our URL: ours, renamed
        elif origin is not None and parsed.app is not None:
            moved.setdefault(parsed.app, []).append(entry)
            origins[entry.id] = origin
        else:
            others.append(entry)
    wanted = {_shape(name, w.body) for name, w in desired.items()}
    for entries in moved.values():
        if {_shape(str(e.name), e) for e in entries} == wanted:
            for entry in entries:
                parsed = parse_name(entry.name)
                assert parsed is not None
                name = entry_name(parsed.route, parsed.chunk, app_id)
                adopted.setdefault(name, []).append(entry)
        else:
            others.extend(entries)
    elsewhere = {e.id: origins[e.id] for e in others if e.id in origins}
    return Sorted(ours, adopted, others, by_hand, elsewhere, noted)


def _shape(name: str, entry: ActionUrl | ActionUrlCreate) -> tuple[str, int, str, str]:
    """What an entry answers, whoever named it: route, chunk, type and mask."""
    parsed = parse_name(name)
    kind = str(getattr(entry.type, "value", entry.type))  # an enum, or its wire value
    mask = entry.dtmf_mask if kind == "DTMF" else entry.caller_mask
    return (parsed.route if parsed else name, parsed.chunk if parsed else 0, kind, mask or "")
