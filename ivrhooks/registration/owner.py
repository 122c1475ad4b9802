"""Who owns a managed action URL: the name scheme ``ivrhooks:<route>@<app>`` (``#<n>`` for the
second and later chunks of a long mask).

Several apps can share one PBX, even one receptionist: each writes, rewrites and deletes only the
entries named with its own identity. The identity is ``IVRHOOKS_APP_ID`` when set, otherwise six
characters derived from the app's module name and the public URL the PBX calls it at, so two
different apps differ by default while the replicas of one app (same code, same URL) agree.

Entries named by ivrhooks 0.1 (``ivrhooks:<route>``, no identity) are adopted by the app whose
action URL they already point at (same route, same URL), renamed on the next reconcile; any
other one is left alone as another app's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ivrhooks.manifest import derive_app_id

__all__ = ["MANAGED_PREFIX", "ManagedName", "derive_app_id", "entry_name", "parse_name"]

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
