"""Trouble the fake PBX puts into its event delivery, for tests of the receiving side.

PortSIP promises little (``webhook-notifications/receiving-events-via-a-webhook.md``): events
"MAY be sent several times", their order is not guaranteed, and they may be buffered. A
receiver must survive all three; :class:`EventFaults` makes the fake do each on purpose, drawn
from a seeded ``random.Random`` so a test sees the same trouble on every run.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import TypeVar

from ivrhooks.errors import InvalidArgumentError

__all__ = ["EventFaults"]

T = TypeVar("T")


@dataclass
class EventFaults:
    """``duplicate``: the probability (0 to 1) that an event is sent twice (1: every one);
    ``reorder``: each call's events are shuffled (duplicates included, so a copy may come
    first); ``delay``: seconds each event waits before it is sent (the call's answer never
    waits: events go out in the background); ``rng``: where the draws come from."""

    duplicate: float = 0.0
    reorder: bool = False
    delay: float = 0.0
    rng: random.Random = field(default_factory=lambda: random.Random(0))

    def __post_init__(self) -> None:
        if not 0.0 <= self.duplicate <= 1.0:
            raise InvalidArgumentError("EventFaults.duplicate: a probability, from 0 to 1")
        if self.delay < 0:
            raise InvalidArgumentError("EventFaults.delay: seconds, 0 or more")

    def apply(self, events: list[T]) -> list[tuple[T, bool]]:
        """``events`` as they go out: each with whether it is a copy the faults added."""
        sent: list[tuple[T, bool]] = []
        for event in events:
            sent.append((event, False))
            if self.duplicate and self.rng.random() < self.duplicate:
                sent.append((event, True))
        if self.reorder:
            self.rng.shuffle(sent)
        return sent
