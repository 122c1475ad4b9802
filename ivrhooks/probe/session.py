"""The probe's state while it runs: which step is under way, what each request is to it, and
what to answer.

A request belongs to the step under way, unless its ``session_id`` is that of an earlier step's
call (a late resend). Within a step, the first request gets the step's deliberate answer, and so
does a resend of it (a retry); the others are named by comparing them with it
(:data:`~.seen.Kind`) and answered ``hangup``, so the call ends. A step ends when the operator
says the call is over (or ``--self-dial``'s call returns), and only once every request of it
has been answered or given up by the PBX: a late answer still waiting is part of its step.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from ivrhooks.core.decisions import Decision, call, hangup, repeat
from ivrhooks.probe.seen import Kind, Seen
from ivrhooks.probe.steps import Step

__all__ = ["GRACE", "Plan", "ProbeSession", "StepRun"]

#: How long past ``request_timeout`` (and ``connection_timeout``) a late answer waits for the
#: PBX to give up before sending anyway: enough for a PBX that rounds its timer up.
GRACE = 2.0


@dataclass(frozen=True)
class Plan:
    """What to answer one request."""

    kind: Literal["decision", "status", "invalid_json", "late"]
    decision: Decision = field(default_factory=hangup)
    wait: float = 0.0
    """A late answer: seconds to wait for the PBX to give up before answering anyway."""

    @property
    def says(self) -> str:
        if self.kind == "status":
            return "HTTP 500"
        if self.kind == "invalid_json":
            return "HTTP 200, not JSON"
        action: str = self.decision.action
        if self.decision.destination is not None:
            action = f"{action} {self.decision.destination}"
        return f"late {action}" if self.kind == "late" else action


@dataclass
class StepRun:
    """One step as it went."""

    step: Step
    number: int
    started: float
    seen: list[Seen] = field(default_factory=list)
    finished: bool = False
    note: str | None = None
    """What the operator said they heard, when asked."""

    @property
    def first(self) -> Seen | None:
        return next((s for s in self.seen if s.kind == "first"), None)

    def of_kind(self, *kinds: Kind) -> list[Seen]:
        return [s for s in self.seen if s.kind in kinds]


class ProbeSession:
    """Every request the probe received, sorted into steps, and the answer each gets."""

    def __init__(
        self,
        *,
        receptionist: str,
        request_timeout: int,
        connection_timeout: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.receptionist = receptionist
        self.request_timeout = request_timeout
        self.connection_timeout = connection_timeout
        self._clock = clock
        self._started = clock()
        self.runs: list[StepRun] = []
        self.current: StepRun | None = None
        self.seen: list[Seen] = []
        self._by_session: dict[str, StepRun] = {}
        self._inflight: dict[int, StepRun | None] = {}
        self._idle = asyncio.Event()
        self._idle.set()
        #: Set on every request; the quiet-window wait clears it.
        self.activity = asyncio.Event()

    def now(self) -> float:
        """Seconds since the probe began."""
        return self._clock() - self._started

    def begin(self, step: Step) -> StepRun:
        run = StepRun(step, len(self.runs) + 1, self.now())
        self.runs.append(run)
        self.current = run
        return run

    async def finish(self) -> StepRun:
        """End the step under way, once every request of it has been answered."""
        run = self.current
        assert run is not None, "finish() follows begin()"
        while any(owner is run for owner in self._inflight.values()):
            self._idle.clear()
            await self._idle.wait()
        run.finished = True
        self.current = None
        return run

    def record(self, seen: Seen) -> None:
        """A request answered outside the steps' logic (a challenge, a refusal, a stray path):
        kept, in the step under way."""
        self._keep(seen, self.current)

    def admit(self, seen: Seen) -> Plan:
        """Sort ``seen`` into its step, name it and say what to answer; :meth:`done` follows."""
        run = self._by_session.get(seen.session_id or "") or self.current
        self._keep(seen, run)
        self._inflight[seen.index] = run
        if run is None:
            seen.kind = "unexpected"
            return Plan("decision")
        if seen.route == "caller":
            # A CALLER action URL fires as the call arrives; ``repeat`` lets the prompt play.
            seen.kind = "arrival"
            return Plan("decision", repeat())
        first = run.first
        if first is None:
            seen.kind = "first"
            if seen.session_id:
                self._by_session.setdefault(seen.session_id, run)
            return self._deliberate(run.step)
        if seen.session_id and first.session_id and seen.session_id != first.session_id:
            seen.kind = "new_session"
        elif seen.input == first.input and seen.fields.get("to") == first.fields.get("to"):
            # A resend gets the same answer: a second try that succeeded would hide how many
            # the PBX makes, and what it does once they are spent.
            seen.kind = "retry"
            return self._deliberate(run.step)
        else:
            seen.kind = "prompt"
        return Plan("decision")

    def done(self, seen: Seen) -> None:
        self._inflight.pop(seen.index, None)
        self._idle.set()

    def _keep(self, seen: Seen, run: StepRun | None) -> None:
        if run is not None:
            seen.step = run.step.key
            previous = run.seen[-1] if run.seen else None
            seen.gap = None if previous is None else round(seen.at - previous.at, 3)
            run.seen.append(seen)
        self.seen.append(seen)
        self.activity.set()

    def _deliberate(self, step: Step) -> Plan:
        answer = step.answer
        if answer == "repeat":
            return Plan("decision", repeat())
        if answer == "call":
            return Plan("decision", call(self.receptionist))
        if answer == "hangup":
            return Plan("decision", hangup())
        if answer == "late":
            wait = self.request_timeout + self.connection_timeout + GRACE
            return Plan("late", hangup(), wait=wait)
        return Plan(answer)
