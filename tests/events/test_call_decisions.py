"""``event.decisions``: every action-URL decision of a call, recorded under its session id after
the answer, read by its CDR event handlers oldest first — the route, the action, the
destination, the receptionist — and never the digits keyed (a PIN) nor the caller's number."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import pytest

from ivrhooks import ActionRequest, IVRHooks, call
from ivrhooks.events import CallCDR, RecordedDecision
from ivrhooks.events.decisions import DecisionLog
from ivrhooks.store.memory import MemoryStore
from ivrhooks.testing import running
from tests.events.served import quiet, served
from tests.redis_server import RedisServer

CALLER = "5557654321"
PIN = "918273"


def _two_receptionists(seen: list[CallCDR]) -> IVRHooks:
    """8000's menu forwards key 6 to 8001, the billing receptionist; 8001 takes a six-digit
    PIN and forwards to the account's manager, 2001."""
    app = IVRHooks(receptionists=["8000", "8001"], env=False)

    @app.dtmf("6", receptionists=["8000"])
    async def billing(req: ActionRequest) -> object:
        return call("8001")

    @app.dtmf("100000-999999", receptionists=["8001"])
    async def account(req: ActionRequest) -> object:
        return call("2001")

    @app.event("call_cdr")
    async def outcome(event: CallCDR) -> None:
        seen.append(event)

    return app


@pytest.mark.parametrize("store", ["memory", "redis"])
async def test_a_call_through_two_receptionists_reads_both_decisions_oldest_first(
    store: str, request: pytest.FixtureRequest
) -> None:
    environ = {}
    if store == "redis":
        redis: RedisServer = request.getfixturevalue("redis_server")
        environ["IVRHOOKS_REDIS_URL"] = redis.url
    seen: list[CallCDR] = []
    async with running(_two_receptionists(seen), environ=environ) as r:
        flow = await served(r).pbx.call("8000", CALLER, ["6", PIN])
        await r.pbx.events_sent()
        await quiet(r.url)
        app_id = r.runtime.manifest.app_id
        kept = await r.runtime.store.get(f"ivrhooks:{app_id}:decisions:{flow.session_id}")
    assert [h.destination for h in flow.hops] == ["8001", "2001"]
    (event,) = seen
    assert event.session_id == flow.session_id and event.call_status == "answered"
    picked = [(d.receptionist, d.route, d.action, d.destination, d.cause) for d in event.decisions]
    assert picked == [
        ("8000", "billing", "call", "8001", None),
        ("8001", "account", "call", "2001", None),
    ]
    assert event.decisions[0].at <= event.decisions[1].at
    # What is kept says nothing of the PIN nor of who called.
    assert {f.name for f in dataclasses.fields(RecordedDecision)} == {
        "route",
        "action",
        "at",
        "destination",
        "cause",
        "receptionist",
    }
    assert kept is not None and PIN.encode() not in kept and CALLER.encode() not in kept
    assert PIN not in repr(event.decisions) and CALLER not in repr(event.decisions)


async def test_decisions_are_recorded_only_for_apps_that_read_them() -> None:
    # No CDR handler (an extension one only): nothing is written per call.
    app = IVRHooks(receptionists=["8000"], env=False)
    seen: list[Any] = []

    @app.event("extension_call")
    async def ringing(event: Any) -> None:
        seen.append(event)

    @app.dtmf("1")
    async def one(req: ActionRequest) -> object:
        return call("2001")

    async with running(app, environ={}) as r:
        result = await served(r).dial("8000", CALLER, "1")
        await r.pbx.events_sent()
        await quiet(r.url)
        app_id = r.runtime.manifest.app_id
        session_id = result.fields["session_id"]
        kept = await r.runtime.store.get(f"ivrhooks:{app_id}:decisions:{session_id}")
    assert seen, "the app got its extension events"
    assert kept is None


async def test_a_later_decisions_write_landing_first_still_reads_oldest_first() -> None:
    """Decisions are written after each answer, in the background: with Redis, the second
    answer's write can land before the first's (seen under load). The log stays in the order
    the decisions were made."""

    class FirstReadWaits(MemoryStore):
        def __init__(self) -> None:
            super().__init__()
            self.go = asyncio.Event()
            self.reads = 0

        async def get(self, key: str) -> bytes | None:
            self.reads += 1
            if self.reads == 1:  # the first write reads, then waits for the second to land
                found = await super().get(key)
                await self.go.wait()
                return found
            return await super().get(key)

    store = FirstReadWaits()
    log = DecisionLog(store, "app", ttl=60)
    first = RecordedDecision(route="billing", action="call", at=100.0, destination="8001")
    second = RecordedDecision(route="account", action="call", at=101.0, destination="2001")
    earlier = asyncio.create_task(log.add("call-1", first))
    await asyncio.sleep(0)  # the first write has read the (empty) list
    assert await log.add("call-1", second)
    store.go.set()
    assert await earlier  # its compare-and-set lost once, then landed
    assert [d.route for d in await log.of("call-1")] == ["billing", "account"]
