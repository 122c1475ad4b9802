"""The call-flow map as data: every receptionist, its routes, and where their decisions lead.

What the page draws, as JSON. A route's targets come from two places, and each says which:

- ``code``: the decisions its handler's source states (:mod:`.destinations`), known before any
  call; a ``computed`` target means the handler picks the number when it runs;
- ``seen``: the decisions the app actually made for it, from the call journal (every call the
  embedded PBX placed since the app started), so a computed number shows up once it is dialled.

A target that dials another receptionist of this app is an edge (``receptionist``); any other
number is a leaf (``number``), as are ``hangup``, ``repeat``, ``computed`` and ``runtime``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ivrhooks.core.blame import handler_location
from ivrhooks.core.request import Handler
from ivrhooks.fakepbx.devui.destinations import Target, destinations_of
from ivrhooks.manifest import Manifest, ManifestRoute
from ivrhooks.observe.journal import CallRecord

__all__ = ["FlowMaps"]

#: (receptionist, route name or "" for the fallback) -> decisions seen, in the order first seen.
_Seen = dict[tuple[str, str], dict[Target, None]]


class FlowMaps:
    """Builds the map; remembers what each handler's source says (read once per handler)."""

    def __init__(self) -> None:
        self._read: dict[int, tuple[Handler, tuple[Target, ...] | None]] = {}

    def build(self, manifest: Manifest, records: Iterable[CallRecord]) -> dict[str, Any]:
        seen = _seen(records)
        internal = set(manifest.receptionists)
        lanes = []
        for number in manifest.receptionists:
            routes = [
                self._route(entry, number, seen, internal)
                for entry in manifest.routes
                if number in entry.receptionists
            ]
            lanes.append({"number": number, "routes": routes})
        shown_fallback = None
        fallback = manifest.fallback
        if fallback is not None:
            static = self._static(fallback)
            observed: dict[Target, None] = {}
            for (_, route), targets in seen.items():
                if route == "":
                    observed.update(targets)
            shown_fallback = {
                "handler": _name(fallback),
                "where": handler_location(fallback),
                "known": static is not None,
                "targets": _targets(static or (), observed, internal),
            }
        return {"receptionists": lanes, "fallback": shown_fallback}

    def _route(
        self, entry: ManifestRoute, receptionist: str, seen: _Seen, internal: set[str]
    ) -> dict[str, Any]:
        route = entry.route
        static = self._static(route.handler)
        observed = seen.get((receptionist, route.name), {})
        return {
            "name": route.name,
            "kind": route.kind,
            "mask": route.shown_mask,
            # An input the route takes here ("otherwise" takes what the others leave).
            "example": entry.masks[receptionist].example(),
            "handler": _name(route.handler),
            "scheme": entry.scheme,
            "path": entry.path,
            "where": handler_location(route.handler),
            "known": static is not None,
            "targets": _targets(static or (), observed, internal),
        }

    def _static(self, handler: Handler) -> tuple[Target, ...] | None:
        # Keyed by id with the handler kept alive beside it, so the id cannot be reused.
        cached = self._read.get(id(handler))
        if cached is None:
            cached = self._read[id(handler)] = (handler, destinations_of(handler))
        return cached[1]


def _name(handler: Handler) -> str:
    return str(getattr(handler, "__name__", None) or type(handler).__name__)


def _seen(records: Iterable[CallRecord]) -> _Seen:
    seen: _Seen = {}
    for record in reversed(list(records)):  # the journal lists newest first
        if record.answered_by == "default":
            continue  # the built-in repeat(): no handler of the user's decided it
        route = record.route if record.answered_by == "route" else ""
        target = Target(record.action, record.destination)  # type: ignore[arg-type]
        seen.setdefault((record.receptionist, route), {}).setdefault(target)
    return seen


def _targets(
    static: Iterable[Target], observed: dict[Target, None], internal: set[str]
) -> list[dict[str, Any]]:
    merged: dict[Target, list[str]] = {target: ["code"] for target in static}
    for target in observed:
        merged.setdefault(target, []).append("seen")
    shown = []
    for target, sources in merged.items():
        kind: str = target.kind
        if kind == "call":
            kind = "receptionist" if target.number in internal else "number"
        shown.append({"kind": kind, "number": target.number, "sources": sources})
    return shown
