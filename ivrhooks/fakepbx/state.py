"""What the fake PBX's HTTP side sees of it: its state, counters and injected faults.

The routes (``api``, ``login``, ``calls``) are written against :class:`PBXState`, not the
``FakePBX`` class, so the class can build its app from them without an import circle.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ivrhooks.fakepbx.dial import DialResult
from ivrhooks.fakepbx.flow import CallFlow
from ivrhooks.fakepbx.rates import RequestRate
from ivrhooks.fakepbx.resources import Resources
from ivrhooks.fakepbx.store import Store
from ivrhooks.fakepbx.tokens import TokenIssuer
from ivrhooks.fakepbx.webhooks.outcome import CallOutcome
from ivrhooks.pbx.generations import Generation

__all__ = ["Counters", "Faults", "PBXState"]


@dataclass
class Counters:
    """API calls the fake PBX served (authorised requests to the 17 resource endpoints)."""

    calls: int = 0
    creates: int = 0
    updates: int = 0
    destroys: int = 0

    @property
    def writes(self) -> int:
        return self.creates + self.updates + self.destroys


@dataclass
class Faults:
    """Injected trouble: added latency; the next ``fail_count`` requests get ``fail_status``."""

    latency: float = 0.0
    fail_count: int = 0
    fail_status: int = 503
    retry_after: str | None = None
    failed: int = field(default=0)


class PBXState(Protocol):
    """The fake PBX as its HTTP routes use it."""

    store: Store
    resources: Resources
    tokens: TokenIssuer
    counters: Counters
    faults: Faults
    login_generations: frozenset[Generation]
    role: str
    capabilities: tuple[str, ...] | None
    requests: RequestRate
    hide_event_secrets: bool

    @property
    def tenant(self) -> dict[str, Any]: ...

    def reset_counters(self) -> None: ...

    def call_outcome(self, session_id: str) -> CallOutcome | None: ...

    async def stop_events(self) -> None: ...

    async def dial(
        self,
        to: str,
        caller: str,
        digits: str = "",
        caller_name: str = "",
        *,
        session_id: str | None = None,
    ) -> DialResult: ...

    async def call(
        self,
        to: str,
        caller: str,
        digits: str | Sequence[str] = (),
        caller_name: str = "",
        *,
        session_id: str | None = None,
    ) -> CallFlow: ...
