"""One extension's availability, from whichever of PortSIP's three vocabularies says it.

The sources disagree (reference: portsip-events.md, "Presence vocabularies"):

- REST ``GET /users/{id}/status`` (OpenAPI ``openapi (5).json``): ``status`` ``ONLINE``,
  ``ON_CALL``, ``OFFLINE``; ``presence`` ``DO_NOT_DISTURB``, ``AVAILABLE``, ``AWAY``,
  ``BUSINESS_TRIP``, ``LUNCH``, ``ON_CALL``, ``OFFLINE``;
- the v22.3.0 REST changes (``summary-of-changes.md``): ``status`` gains ``OTHER_CALL`` and
  loses ``ON_CALL``; ``presence`` gains ``ONLINE``, ``OTHER_CALL``, ``RINGING`` and loses
  ``AVAILABLE`` and ``ON_CALL``;
- the WebSocket feed 22.3 (``going-real-time-with-portsip-pbx-pub-sub/version-22.3.md``):
  ``call_status`` ``ON_CALL``, ``RINGING`` or empty (one example reads ``"ON_ACLL"``), booleans
  ``online`` and ``push_online``, ``presence`` ``ONLINE``, ``LUNCH``, ``BUSINESS_TRIP``,
  ``DO_NOT_DISTURB``, ``AWAY`` (and its ``extension_presence`` example says ``AVAILABLE``).

All of them are read, leniently (case, spaces, hyphens), and nothing unknown ever reads as
``"available"``: a value this module does not know makes the answer ``None`` (not known)
unless a known value already says the extension cannot take a call.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final, Protocol

from ivrhooks.core.types import Presence
from ivrhooks.events.values import flag, word

__all__ = ["PRESENCES", "Presence", "PresenceStore", "PresenceView", "normalize_presence"]


PRESENCES: Final[tuple[str, ...]] = ("available", "busy", "ringing", "away", "dnd", "offline")

# status / call_status: the call state. ONLINE (REST) says registered and not in a call.
_CALL_STATES: Final[dict[str, Presence]] = {
    "ON_CALL": "busy",
    "ON_ACLL": "busy",  # the WebSocket page's extension_status example
    "OTHER_CALL": "busy",
    "IN_CALL": "busy",
    "BUSY": "busy",
    "RINGING": "ringing",
    "OFFLINE": "offline",
}
_IDLE: Final = frozenset({"ONLINE", "IDLE", "AVAILABLE", "READY"})

# presence: what the person set (or the PBX derived, after v22.3).
_PRESENCES: Final[dict[str, Presence]] = {
    "AVAILABLE": "available",
    "ONLINE": "available",
    "AWAY": "away",
    "LUNCH": "away",
    "BUSINESS_TRIP": "away",
    "BE_RIGHT_BACK": "away",
    "DO_NOT_DISTURB": "dnd",
    "DND": "dnd",
    "ON_CALL": "busy",
    "ON_ACLL": "busy",
    "OTHER_CALL": "busy",
    "BUSY": "busy",
    "RINGING": "ringing",
    "OFFLINE": "offline",
}


def normalize_presence(
    *,
    status: Any = None,
    call_status: Any = None,
    presence: Any = None,
    online: Any = None,
    push_online: Any = None,
) -> Presence | None:
    """What the given fields say together, or ``None`` when they say nothing known.

    In order: not registered (``online`` false) and not reachable by push (``push_online`` not
    true; the feed says it matters only when ``online`` is false) is ``"offline"``; a call state
    (``status`` or ``call_status``) of a call or ringing says ``"busy"``/``"ringing"`` whatever
    the presence; then ``presence``. ``"available"`` needs a known idle word (``presence``
    ``AVAILABLE``/``ONLINE``, ``status`` ``ONLINE``, or ``online`` true) and no unknown one. An
    empty ``call_status`` ("not in any call") alone says nothing: it does not say registered.
    """
    reachable = flag(online)
    if reachable is False and flag(push_online) is not True:
        return "offline"
    unknown = idle = False
    for value in (status, call_status):
        state = word(value)
        if state is None or state == "":
            continue
        if state in _CALL_STATES:
            return _CALL_STATES[state]
        if state in _IDLE:
            idle = True
        else:
            unknown = True
    said = word(presence)
    if said:
        found = _PRESENCES.get(said)
        if found is None:
            return None
        if found != "available":
            return found
        return None if unknown else "available"
    if unknown:
        return None
    return "available" if idle or reachable is True else None


# -- the live view handlers read (req.presence) -------------------------------------------------

#: The fields of an extension message that say something about availability, merged per
#: extension: PortSIP sends the call state and the presence in separate messages.
_FIELDS: Final = ("status", "call_status", "presence", "online", "push_online")


class PresenceStore(Protocol):
    """What the view needs of a store (:class:`ivrhooks.store.base.Store` is one)."""

    async def get(self, key: str) -> bytes | None: ...

    async def swap(self, key: str, old: bytes | None, new: bytes | None, *, ttl: float) -> bool: ...


class PresenceView:
    """Each extension's availability from its newest fresh extension messages, in a store.

    Extension messages arrive unordered and more than once, and each says only part of the
    picture (``extension_call`` the call state, ``extension_presence`` what the person set,
    ``extension_status`` whether it is registered): the view keeps, per extension, the newest
    value of each field with the time of the message that said it, and answers from those
    still fresh (said within ``ttl`` seconds) through :func:`normalize_presence`. A message
    older than what is known of a field leaves that field alone. For an extension no fresh
    message mentions, the answer is ``None``: unknown, never ``"available"``.

    Keyed by extension number under ``ivrhooks:<app id>:presence:`` (one tenant per app, as the
    PBX login is). Reads come from the store only, never from the PBX: a handler can afford one.
    """

    def __init__(
        self,
        store: PresenceStore,
        app_id: str,
        *,
        ttl: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.ttl = ttl
        self._clock = clock
        self._prefix = f"ivrhooks:{app_id}:presence:"

    async def update(
        self, extension: str, fields: Mapping[str, Any], at: float | None = None
    ) -> bool:
        """Merge what one message says of ``extension`` (``fields``: any of ``status``,
        ``call_status``, ``presence``, ``online``, ``push_online``; ``None`` means not said) as
        of ``at``, the message's time (now when it has none). Whether anything changed."""
        now = self._clock()
        when = now if at is None else min(at, now)
        said = {name: fields[name] for name in _FIELDS if fields.get(name) is not None}
        if not said or now - when > self.ttl:
            return False  # says nothing, or a late retry of a message already stale
        key = self._prefix + extension
        for _ in range(5):
            old = await self.store.get(key)
            known = _decode(old)
            changed = False
            for name, value in said.items():
                if name not in known or known[name][1] <= when:
                    changed = changed or known.get(name) != (value, when)
                    known[name] = (value, when)
            if not changed:
                return False
            new = json.dumps(
                {name: [value, t] for name, (value, t) in known.items()}, separators=(",", ":")
            ).encode()
            if await self.store.swap(key, old, new, ttl=self.ttl):
                return True
        return False

    async def get(self, extension: str) -> Presence | None:
        """The extension's availability now, or ``None`` when no fresh message says it."""
        known = _decode(await self.store.get(self._prefix + extension))
        now = self._clock()
        fresh = {name: value for name, (value, t) in known.items() if now - t <= self.ttl}
        return normalize_presence(**fresh) if fresh else None

    async def first_available(self, extensions: Iterable[str]) -> str | None:
        """The first of ``extensions`` known to be ``"available"`` now; ``None`` if none is."""
        for extension in extensions:
            if await self.get(extension) == "available":
                return extension
        return None


def _decode(raw: bytes | None) -> dict[str, tuple[Any, float]]:
    if raw is None:
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        return {}
    out: dict[str, tuple[Any, float]] = {}
    if isinstance(data, dict):
        for name in _FIELDS:
            item = data.get(name)
            if isinstance(item, list) and len(item) == 2 and isinstance(item[1], (int, float)):
                out[name] = (item[0], float(item[1]))
    return out
