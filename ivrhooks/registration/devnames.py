"""The names of dev entries: ``ivrhooks-dev:<route>@<app>~<expiry>`` (``#<n>`` before the
``~`` for the second and later chunks of a long mask).

``ivrhooks dev --pbx`` registers the app's routes on a real PBX for as long as a developer's
session lasts. Its entries are named apart from production's ``ivrhooks:<route>@<app>``
(:mod:`.owner`), so production's registration never reads one as its own, and each carries
its end: the epoch second after which no session renews it, in base 36 (six characters until
2038, seven after). A session that crashed leaves entries whose end passes; the next session of
the app deletes them (:mod:`.dev`).

The PBX keeps at most 64 characters of a name (reference/portsip.md §4). The prefix, the app
id and the expiry take up to 31 of them, so a route name longer than the room left is
abbreviated: its start, a ``.`` (never in a route name) and four characters of its hash, the
same every time, so the entry is found again by the same name.
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass

from ivrhooks.core.types import MAX_NAME
from ivrhooks.errors import InvalidArgumentError

__all__ = [
    "DEV_PREFIX",
    "DevName",
    "dev_entry_name",
    "parse_dev_name",
    "to_base36",
    "until",
]

#: Every dev entry's name starts with this; production's names never do (``ivrhooks:``).
DEV_PREFIX = "ivrhooks-dev:"

_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"
_DEV = re.compile(
    r"ivrhooks-dev:(?P<route>[a-z0-9][a-z0-9_.-]{0,47})"
    r"@(?P<app>[a-z0-9]{1,8})"
    r"(?:#(?P<chunk>[1-9][0-9]{0,3}))?"
    r"~(?P<expires>[0-9a-z]{1,8})"
)
_HASH = 4  # characters of the route's hash in an abbreviated name


def to_base36(number: int) -> str:
    """``number`` (not negative) in base 36, lower case: ``1767225600 -> "t8bvu0"``."""
    if number < 0:
        raise InvalidArgumentError(f"number: must not be negative, not {number}")
    out = ""
    while True:
        number, digit = divmod(number, 36)
        out = _DIGITS[digit] + out
        if not number:
            return out


@dataclass(frozen=True, slots=True)
class DevName:
    """A parsed dev entry name."""

    route: str
    """The route's name, or its abbreviation when the whole name would not fit."""
    app: str
    chunk: int
    expires: int
    """Epoch seconds: once past, the entry belongs to no running session."""

    @property
    def stem(self) -> str:
        """The name without its expiry: what stays the same when a session renews it."""
        return f"{DEV_PREFIX}{self.route}@{self.app}" + (
            "" if self.chunk == 1 else f"#{self.chunk}"
        )


def dev_entry_name(route: str, chunk: int, app_id: str, expires: int) -> str:
    """The dev entry name of ``route``'s chunk ``chunk`` for ``app_id``, ending at ``expires``;
    at most 64 characters, the route abbreviated when it must be."""
    tail = f"@{app_id}" + ("" if chunk == 1 else f"#{chunk}") + f"~{to_base36(expires)}"
    room = MAX_NAME - len(DEV_PREFIX) - len(tail)
    if len(route) > room:
        digest = int.from_bytes(hashlib.sha256(route.encode()).digest()[:8], "big")
        route = f"{route[: room - _HASH - 1]}.{to_base36(digest)[-_HASH:]}"
    return f"{DEV_PREFIX}{route}{tail}"


def parse_dev_name(name: str | None) -> DevName | None:
    """The parts of a dev entry name; ``None`` for any other name."""
    match = _DEV.fullmatch(name or "")
    if match is None:
        return None
    chunk = match.group("chunk")
    return DevName(
        route=match.group("route"),
        app=match.group("app"),
        chunk=int(chunk) if chunk else 1,
        expires=int(match.group("expires"), 36),
    )


def until(expires: int, now: float) -> str:
    """``until 14:05 UTC`` or ``expired at 14:05 UTC``; with the date when not within 12 h."""
    shape = "%H:%M UTC" if abs(expires - now) < 12 * 3600 else "%Y-%m-%d %H:%M UTC"
    when = time.strftime(shape, time.gmtime(expires))
    return f"until {when}" if expires > now else f"expired at {when}"
