"""The answer budget of a request: one value from the configuration to the timer.

The PBX waits ``request_timeout`` seconds for an answer and does not document what happens after
(reference/portsip.md §2), so every request is answered within ``ServingConfig.deadline``
seconds. That budget is split once, here: the handler's slice, then a reserve in which the
fallback still answers when the handler overran. Everything that asks "how long may this run?"
(the handler's timer, ``req.time_left()``, a slow password hash, the fallback's timer) reads the
request's :class:`Due` times; nothing subtracts the reserve on its own.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Deadline", "Due"]

#: The fallback's reserve: a tenth of the budget, at most 0.1 s (enough to run a fallback that
#: decides without I/O, and answer).
MAX_RESERVE = 0.1


@dataclass(frozen=True, slots=True)
class Due:
    """When one request's decisions are due, in event-loop time (``loop.time()``)."""

    handler: float
    """The route's handler (and its middleware) must have decided by then."""
    answer: float
    """The answer must be sent by then: the fallback runs until this time."""


@dataclass(frozen=True, slots=True)
class Deadline:
    """The budget of every request, and its split between the handler and the fallback."""

    budget: float
    """Seconds from receiving a request to sending its decision (``ServingConfig.deadline``)."""
    reserve: float
    """The last part of the budget, kept for the fallback."""

    @classmethod
    def of(cls, budget: float) -> Deadline:
        """The deadline for a ``budget`` of seconds, with the fallback's reserve taken from it."""
        return cls(budget, min(MAX_RESERVE, budget / 10))

    @property
    def handler_budget(self) -> float:
        """The handler's own time: the budget less the fallback's reserve."""
        return self.budget - self.reserve

    def start(self, now: float) -> Due:
        """The due times of a request received at ``now`` (event-loop time)."""
        return Due(now + self.budget - self.reserve, now + self.budget)
