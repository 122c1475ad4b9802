"""How a call placed on the fake PBX ends: decided at once, when its last action URL answered.

A call arrives at a receptionist, follows forwards between receptionists, and either ends there
(``hangup``, the caller keys nothing more, no action URL takes the input) or is forwarded to a
number that is not a receptionist: a **target**. Whether the target answers is the fake's to
say: by default it does; ``FakePBX(extensions={"2002": "busy", "2003": "offline",
"2004": "noanswer"})`` says otherwise, and :class:`Extension` adds simulated ring and talk
times. Nothing waits for them: the times are written into the events, not slept.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Final, Literal

from ivrhooks.errors import InvalidArgumentError

__all__ = [
    "ANSWERING",
    "Answering",
    "CallOutcome",
    "Extension",
    "Leg",
    "call_legs",
    "extensions_of",
    "target_leg",
]

Answering = Literal["answer", "busy", "noanswer", "offline"]
"""What a target does with a call: answers; is busy (SIP 486); rings out (no answer); is not
registered (SIP 480)."""
ANSWERING: Final[tuple[str, ...]] = ("answer", "busy", "noanswer", "offline")

#: The SIP status each ending gets (``call_cdr``'s ``status_code``). PortSIP's one example has
#: ``0`` on answered legs; 487 is what a PBX's own CANCEL after its ring timeout gets back.
_SIP: Final[dict[str, int]] = {"answer": 0, "busy": 486, "noanswer": 487, "offline": 480}


@dataclass(frozen=True)
class Extension:
    """A number the fake PBX forwards calls to: what it does, and for how long (seconds, whole:
    PortSIP's times are Unix seconds)."""

    state: Answering = "answer"
    ring: int = 0
    talk: int = 0

    def __post_init__(self) -> None:
        if self.state not in ANSWERING:
            raise InvalidArgumentError(
                f"extensions: {self.state!r} is not one of {', '.join(ANSWERING)}"
            )
        if self.ring < 0 or self.talk < 0:
            raise InvalidArgumentError("extensions: ring and talk are seconds, 0 or more")


def extensions_of(given: Mapping[str, str | Extension] | None) -> dict[str, Extension]:
    """``FakePBX(extensions=...)``: a state word (``"busy"``) or an :class:`Extension` each."""
    found: dict[str, Extension] = {}
    for number, value in (given or {}).items():
        if isinstance(value, Extension):
            found[number] = value
        elif isinstance(value, str):
            found[number] = Extension(value)  # type: ignore[arg-type]  # checked by Extension
        else:
            raise InvalidArgumentError(
                f"extensions[{number!r}]: a state ({', '.join(ANSWERING)}) or an Extension"
            )
    return found


@dataclass(frozen=True)
class Leg:
    """One call target of the call (``call_cdr``'s ``call_targets``): a receptionist or the
    forward's target, with its times (Unix seconds) and how it ended."""

    number: str
    receptionist: bool
    answering: Answering
    start: int
    answered: int | None
    ended: int
    end_reason: str

    @property
    def ring_duration(self) -> int:
        return (self.answered if self.answered is not None else self.ended) - self.start

    @property
    def talk_duration(self) -> int:
        return 0 if self.answered is None else self.ended - self.answered

    @property
    def status_code(self) -> int:
        return _SIP[self.answering]

    @property
    def status(self) -> Literal["answered", "noanswer"]:
        # The call_targets table lists these two only: a failed leg did not answer either.
        return "answered" if self.answered is not None else "noanswer"


def target_leg(number: str, extension: Extension, at: int) -> Leg:
    """The forward's leg to ``number``, from ``at``."""
    if extension.state == "answer":
        answered = at + extension.ring
        return Leg(number, False, "answer", at, answered, answered + extension.talk, "None")
    rang = extension.ring if extension.state == "noanswer" else 0
    # No reason is known for a leg that never connected: PortSIP writes "None" (unknown).
    return Leg(number, False, extension.state, at, None, at + rang, "None")


@dataclass(frozen=True)
class CallOutcome:
    """How the call ended, as the fake decided it: ``status`` (``call_cdr``'s ``call_status``),
    the ``target`` the last receptionist forwarded to (``None``: it ended at ``receptionist``),
    what the target did (``answering``), the SIP ``status_code``, ``ended_reason`` and the
    target's (else the receptionist's) ring and talk durations in seconds."""

    session_id: str
    status: Literal["answered", "noanswer", "fail"]
    receptionist: str
    target: str | None
    answering: Answering | None
    status_code: int
    ended_reason: str
    ring_duration: float
    talk_duration: float
    legs: tuple[Leg, ...]

    def to_json(self) -> dict[str, Any]:
        """What ``/_fake/dial`` answers under ``call_outcome`` (``ivrhooks call`` prints it)."""
        shown = asdict(self)
        del shown["legs"]
        return shown

    @classmethod
    def of(cls, session_id: str, legs: tuple[Leg, ...]) -> CallOutcome:
        """The outcome of a call through ``legs`` (receptionists, then maybe a target)."""
        last = legs[-1]
        receptionist = next(leg.number for leg in reversed(legs) if leg.receptionist)
        status: Literal["answered", "noanswer", "fail"] = (
            "answered"
            if last.answering == "answer"
            else "noanswer"
            if last.answering == "noanswer"
            else "fail"
        )
        return cls(
            session_id=session_id,
            status=status,  # a receptionist answers: it plays its prompt
            receptionist=receptionist,
            target=None if last.receptionist else last.number,
            answering=None if last.receptionist else last.answering,
            status_code=last.status_code,
            # As in PortSIP's example: the answering leg says "None", the call who hung up.
            ended_reason="callee_disconnected"
            if status == "answered" and not last.receptionist
            else last.end_reason,
            ring_duration=float(last.ring_duration),
            talk_duration=float(last.talk_duration),
            legs=legs,
        )


def call_legs(
    receptionists: Sequence[str],
    target: tuple[str, Extension] | None,
    *,
    started: int,
    left: int,
    hung_up: bool,
) -> tuple[Leg, ...]:
    """The legs of a call that went through ``receptionists`` from ``started`` until ``left``
    (when the last action URL answered), then to ``target`` if one was forwarded to. A
    receptionist the call moved on from ends ``referred``, as in PortSIP's example."""
    legs = []
    for number in receptionists[:-1]:
        legs.append(Leg(number, True, "answer", started, started, left, "referred"))
    if target is not None:
        final = "referred"
    else:
        final = "callee_disconnected" if hung_up else "caller_disconnected"
    legs.append(Leg(receptionists[-1], True, "answer", started, started, left, final))
    if target is not None:
        legs.append(target_leg(target[0], target[1], left))
    return tuple(legs)
