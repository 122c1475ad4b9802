"""What a handler decides, and how the PBX is told (``portsip.md`` §2).

The PBX expects HTTP 200 with ``{"status_code": 200, "action": ..., "destination": ...}``;
``destination`` is sent only with ``call``, always as a string.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ivrhooks.core.types import Action
from ivrhooks.errors import InvalidDecisionError

__all__ = ["Decision", "InvalidDecisionError", "call", "coerce_decision", "hangup", "repeat"]


# A dialable destination: an extension or a phone number, optionally with a leading "+",
# and the DTMF-style "*"/"#" some dial plans use. Nothing that would need JSON escaping.
_DIALABLE = re.compile(r"\+?[0-9*#]{1,64}")


@dataclass(frozen=True, slots=True)
class Decision:
    """A routing decision: forward the call, hang up, or replay the prompt."""

    action: Action
    destination: str | None = None

    def __post_init__(self) -> None:
        if self.action == "call":
            if not isinstance(self.destination, str) or not _DIALABLE.fullmatch(self.destination):
                raise InvalidDecisionError(
                    f"call({self.destination!r}): a destination is 1 to 64 digits, optionally "
                    "starting with '+' (and may contain '*' or '#')"
                )
        elif self.action not in _STATIC_BODIES:
            raise InvalidDecisionError(
                f"unknown action {self.action!r}: use call(...), hangup() or repeat()"
            )
        elif self.destination is not None:
            raise InvalidDecisionError(f"{self.action}() takes no destination")

    def to_json(self) -> dict[str, object]:
        """The JSON object the PBX receives."""
        if self.action == "call":
            return {"status_code": 200, "action": "call", "destination": self.destination}
        return {"status_code": 200, "action": self.action}

    def body(self) -> bytes:
        """The response body, rendered without a JSON encoder (the fields are known to be safe)."""
        if self.action == "call":
            return b'{"status_code":200,"action":"call","destination":"%s"}' % (
                self.destination.encode("ascii")  # type: ignore[union-attr]  # checked in __post_init__
            )
        return _STATIC_BODIES[self.action]


_STATIC_BODIES: dict[str, bytes] = {
    "hangup": b'{"status_code":200,"action":"hangup"}',
    "repeat": b'{"status_code":200,"action":"repeat"}',
}


def call(destination: str | int) -> Decision:
    """Forward the call to ``destination`` (an extension or a phone number)."""
    if type(destination) is str:
        # Decisions are immutable: one per destination serves every call, without validating
        # and building it again on each request (bounded, cleared when full).
        decision = _CALLS.get(destination)
        if decision is None:
            decision = Decision("call", destination)
            if len(_CALLS) >= _MAX_CALLS:
                _CALLS.clear()
            _CALLS[destination] = decision
        return decision
    if isinstance(destination, bool) or not isinstance(destination, str | int):
        raise InvalidDecisionError(
            f"call() needs a number to dial as a string, got {type(destination).__name__}"
        )
    return Decision("call", str(destination))


_MAX_CALLS = 4096
_CALLS: dict[str, Decision] = {}


_HANGUP = Decision("hangup")
_REPEAT = Decision("repeat")


def hangup() -> Decision:
    """End the call."""
    return _HANGUP


def repeat() -> Decision:
    """Replay the receptionist's prompt."""
    return _REPEAT


def coerce_decision(result: object) -> Decision:
    """Turn a handler's return value into a decision: a bare string means ``call(that)``."""
    if type(result) is Decision:
        return result
    if isinstance(result, str):
        return call(result)
    raise InvalidDecisionError(
        f"a handler must return call(...), hangup(), repeat() or a number string, "
        f"not {type(result).__name__}"
    )
