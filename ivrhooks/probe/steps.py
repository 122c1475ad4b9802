"""The probe's steps: one call each, whose first action-URL request gets one deliberate answer.

PortSIP documents the answer it expects (HTTP 200, ``{"status_code": 200, "action": ...}``) and
nothing about what it does with any other (reference/portsip.md §2): a late answer, a 500, a
body that is not JSON. Nor whether ``repeat`` fires the action URL again under the same
``session_id``, or whether that id survives a forward (§5). Each step asks one of these by
answering the call's first request one way (and the PBX's resends of it the same way); every
other request of the call is answered ``hangup``, so the call ends and the next step can begin.

The operator keys ``FIRST_KEY`` at the prompt and ``SECOND_KEY`` if the prompt plays again: a
request with the first key again is the PBX resending (a retry), one with the second key is the
caller keying at a new prompt. ``--self-dial`` keys the same two against the fake PBX.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from ivrhooks.errors import InvalidArgumentError

__all__ = ["FIRST_KEY", "SECOND_KEY", "STEPS", "Answer", "Step", "pick_steps"]

FIRST_KEY = "1"
SECOND_KEY = "2"

Answer = Literal["repeat", "call", "hangup", "status", "invalid_json", "late"]


@dataclass(frozen=True)
class Step:
    """One deliberate answer: ``key`` names it on the command line and in the report."""

    key: str
    answer: Answer
    says: str
    """What the probe answers, in a few words."""
    asks: str
    """The question the step answers."""
    failure: Literal["timeout", "status", "invalid_json"] | None = None
    """The failure it makes, as the fake PBX's behaviour file names it (``None``: a decision)."""


STEPS: tuple[Step, ...] = (
    Step(
        "repeat",
        "repeat",
        "answers `repeat`",
        "does `repeat` play the prompt again, and do the next keys fire the action URL "
        "again, under the same session_id?",
    ),
    Step(
        "call",
        "call",
        "answers `call` to this same receptionist (a forward)",
        "does session_id survive a forward from one receptionist to another?",
    ),
    Step("hangup", "hangup", "answers `hangup`", "does `hangup` end the call?"),
    Step(
        "status-500",
        "status",
        "answers HTTP 500",
        "what does the PBX do after an answer that is not HTTP 200?",
        failure="status",
    ),
    Step(
        "invalid-json",
        "invalid_json",
        "answers HTTP 200 with a body that is not JSON",
        "what does the PBX do after an answer that is not JSON?",
        failure="invalid_json",
    ),
    Step(
        "late",
        "late",
        "answers only after request_timeout has passed",
        "what does the PBX do when the answer is late?",
        failure="timeout",
    ),
)

_BY_KEY = {step.key: step for step in STEPS}


def pick_steps(keys: Sequence[str]) -> tuple[Step, ...]:
    """The steps named (all of them for none), in the order given; an unknown name is an
    :class:`InvalidArgumentError` listing the known ones."""
    if not keys:
        return STEPS
    unknown = [k for k in keys if k not in _BY_KEY]
    if unknown:
        raise InvalidArgumentError(
            f"--steps: unknown step(s) {', '.join(unknown)}; choose from " + ", ".join(_BY_KEY)
        )
    return tuple(_BY_KEY[k] for k in dict.fromkeys(keys))
