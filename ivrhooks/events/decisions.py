"""Every call's routing decisions, kept so its CDR events can be read beside them.

When a call ends, PortSIP says how (``call_cdr``: answered, no answer, failed, by whom); the app
knows what it decided for each prompt of the call. Both carry the call's ``session_id`` (whether
PortSIP's CDR ``session_id`` equals the action URL's is not documented: ivrhooks matches on it,
and docs/events.md says so), so each action-URL decision is recorded under it — the route, the
decision, the destination, the fallback cause and when, never the digits (a PIN) nor the caller
— and a CDR event handler reads them as ``event.decisions``.

Kept in the app's store (this process's memory, or Redis shared by every replica) for
``EventsConfig.decisions_ttl`` after the call's last decision. Recording never delays an answer:
it runs after the answer is sent, as an observer, in the background, bounded; when too many
writes wait, the newest are dropped and counted instead of piling up.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from typing import Any, Protocol

from ivrhooks.core.request import ActionRequest
from ivrhooks.core.runner import Outcome
from ivrhooks.events.base import RecordedDecision
from ivrhooks.observe.observer import Observer

__all__ = ["DecisionLog", "DecisionRecorder", "DecisionStore"]

log = logging.getLogger("ivrhooks.events")

#: Decisions kept per call, the newest: a call loops back to a menu a few times, not hundreds.
MAX_PER_CALL = 64
#: Writes waiting at once, at most; past it a decision is dropped (and counted), not queued.
MAX_PENDING = 1000


class DecisionStore(Protocol):
    """What the log needs of a store (:class:`ivrhooks.store.Store` is one)."""

    async def get(self, key: str) -> bytes | None: ...

    async def swap(self, key: str, old: bytes | None, new: bytes | None, *, ttl: float) -> bool: ...


class DecisionLog:
    """The decisions of each call, by ``session_id``, in a store."""

    def __init__(self, store: DecisionStore, app_id: str, *, ttl: float) -> None:
        self.store = store
        self.ttl = ttl
        self._prefix = f"ivrhooks:{app_id}:decisions:"

    async def add(self, session_id: str, decision: RecordedDecision) -> bool:
        """Add ``decision`` to the call's list, kept in the order the decisions were made
        (compare-and-set: two writes for one call both land, whichever lands first: they run in
        the background, and with Redis a later answer's write can overtake an earlier one's);
        ``False`` when it lost every race."""
        key = self._prefix + session_id
        item = {
            "route": decision.route,
            "action": decision.action,
            "destination": decision.destination,
            "cause": decision.cause,
            "at": decision.at,
            "receptionist": decision.receptionist,
        }
        for _ in range(5):
            old = await self.store.get(key)
            kept = sorted([*_decode(old), item], key=_when)[-MAX_PER_CALL:]
            new = json.dumps(kept, separators=(",", ":"))
            if await self.store.swap(key, old, new.encode(), ttl=self.ttl):
                return True
        return False

    async def of(self, session_id: str) -> tuple[RecordedDecision, ...]:
        """The call's decisions, oldest first (none when unknown or expired)."""
        items = sorted(_decode(await self.store.get(self._prefix + session_id)), key=_when)
        out = []
        for item in items:
            try:
                out.append(
                    RecordedDecision(
                        route=item.get("route"),
                        action=str(item["action"]),
                        destination=item.get("destination"),
                        cause=item.get("cause"),
                        at=float(item["at"]),
                        receptionist=item.get("receptionist"),
                    )
                )
            except (KeyError, TypeError, ValueError):
                continue  # a record another version wrote differently: skipped, not fatal
        return tuple(out)


def _when(item: dict[str, Any]) -> float:
    """When a recorded decision was made (a record without a readable time sorts first)."""
    try:
        return float(item["at"])
    except (KeyError, TypeError, ValueError):
        return 0.0


def _decode(raw: bytes | None) -> list[dict[str, Any]]:
    if raw is None:
        return []
    try:
        items = json.loads(raw)
    except ValueError:
        return []
    return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []


class DecisionRecorder(Observer):
    """Records every answered request's decision in a :class:`DecisionLog`, after the answer."""

    def __init__(
        self, decisions: DecisionLog, *, dropped: Callable[[], None] | None = None
    ) -> None:
        self.decisions = decisions
        self._dropped = dropped
        self._pending: set[asyncio.Task[bool]] = set()

    def answered(
        self, request: ActionRequest, outcome: Outcome, latency: float, scheme: str
    ) -> None:
        session_id = request.session_id
        if session_id is None:
            return  # nothing to tie it to (a PBX that sends no session_id)
        if len(self._pending) >= MAX_PENDING:
            if self._dropped is not None:
                self._dropped()
            return
        decision = outcome.decision
        record = RecordedDecision(
            route=request.route or None,
            action=decision.action,
            destination=decision.destination,
            cause=outcome.cause,
            at=time.time(),
            receptionist=request.to,
        )
        task = asyncio.get_running_loop().create_task(self._add(session_id, record))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _add(self, session_id: str, record: RecordedDecision) -> bool:
        try:
            return await self.decisions.add(session_id, record)
        except Exception:  # the store's own failures degrade inside it; anything else: logged
            log.exception("a routing decision could not be recorded")
            return False

    async def drain(self, within: float = 2.0) -> None:
        """Wait (at most ``within`` seconds) for the writes still pending: at shutdown."""
        if self._pending:
            await asyncio.wait(set(self._pending), timeout=within)
