"""Presence from extension events, as ``req.presence()`` reads it: what ``set_extension`` says
(available, busy, dnd, offline) read in a handler, separate messages merged, an older message
never overriding a newer one, nothing believed past ``IVRHOOKS_PRESENCE_TTL``, and a store that
fails or hangs making presence unknown while the call is still answered in time."""

from __future__ import annotations

import asyncio
import signal
import time
from typing import Any

import httpx
import pytest

from ivrhooks import ActionRequest, IVRHooks, call
from ivrhooks.core.context import CallContext
from ivrhooks.core.deadline import Deadline
from ivrhooks.events.presence import PresenceView
from ivrhooks.store.memory import MemoryStore
from ivrhooks.testing import RunningApp, running
from tests.events.served import basic_auth, delivered, served
from tests.redis_server import RedisServer

SECRET = "events-presence-secret-0123456789"
WATCHED = ("2001", "2002", "2003", "2004", "2005")


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def view(ttl: float = 300.0) -> tuple[PresenceView, Clock]:
    clock = Clock()
    return PresenceView(MemoryStore(), "app", ttl=ttl, clock=clock), clock


async def test_separate_messages_are_merged_per_field() -> None:
    presence, clock = view()
    t = clock.now
    await presence.update("2001", {"online": True, "presence": "ONLINE"}, t - 30)
    assert await presence.get("2001") == "available"
    await presence.update("2001", {"call_status": "ON_CALL"}, t - 20)  # extension_call
    assert await presence.get("2001") == "busy"
    await presence.update("2001", {"presence": "DO_NOT_DISTURB"}, t - 10)  # extension_presence
    await presence.update("2001", {"call_status": ""}, t - 5)  # the call ended
    assert await presence.get("2001") == "dnd", "the call ended; the presence set stays"


async def test_an_older_message_does_not_override_a_newer_one() -> None:
    presence, clock = view()
    t = clock.now
    assert await presence.update("2001", {"online": True, "presence": "AWAY"}, t - 10)
    assert not await presence.update("2001", {"presence": "ONLINE"}, t - 60)  # sent before
    assert await presence.get("2001") == "away"
    # Older, but about a field nothing newer said: it counts.
    assert await presence.update("2001", {"call_status": "ON_CALL"}, t - 60)
    assert await presence.get("2001") == "busy"


async def test_nothing_is_believed_past_the_ttl() -> None:
    presence, clock = view(ttl=60)
    await presence.update("2001", {"online": True, "presence": "ONLINE"}, clock.now)
    clock.now += 50
    await presence.update("2002", {"online": True, "presence": "ONLINE"}, clock.now)
    clock.now += 5
    assert await presence.first_available(["2001", "2002"]) == "2001"
    clock.now += 10  # 2001's message is 65 s old, 2002's 15 s
    assert await presence.get("2001") is None
    assert await presence.first_available(["2001", "2002"]) == "2002"
    assert not await presence.update("2003", {"presence": "ONLINE"}, clock.now - 61), "stale"
    assert await presence.get("2003") is None


def _reading(read: list[dict[str, Any]]) -> IVRHooks:
    """Key 1: what each watched extension's presence is, then the first available one, else
    the queue (2999)."""
    app = IVRHooks(receptionists=["8000"], secret=SECRET, env=False)

    @app.dtmf("1")
    async def sales(req: ActionRequest) -> object:
        read.append({ext: await req.presence(ext) for ext in WATCHED})
        return call(await req.first_available(WATCHED) or "2999")

    return app


async def test_a_handler_reads_what_the_extension_events_said() -> None:
    read: list[dict[str, Any]] = []
    async with running(_reading(read), environ={}) as r:
        pbx = served(r).pbx
        pbx.set_extension("2001", "busy")  # in a call
        pbx.set_extension("2002", "answer", presence="DO_NOT_DISTURB")
        pbx.set_extension("2003", "offline")  # not registered
        pbx.set_extension("2004", "answer")  # registered, idle, ONLINE
        await pbx.events_sent()
        first = await r.dial("8000", "5551234", "1")
        pbx.set_extension("2001", "answer")  # free again
        await pbx.events_sent()
        second = await r.dial("8000", "5551234", "1")
    assert read[0] == {
        "2001": "busy",
        "2002": "dnd",
        "2003": "offline",
        "2004": "available",
        "2005": None,
    }
    assert (first.destination, second.destination) == ("2004", "2001")


async def post_extension(r: RunningApp, body: dict[str, Any]) -> int:
    async with httpx.AsyncClient(auth=basic_auth(SECRET, "extension")) as http:
        return (await http.post(r.url + "/events/extension", json=body)).status_code


def message(event_type: str, number: str, at: float, **fields: Any) -> dict[str, Any]:
    return {
        "event_type": event_type,
        "extension": f"sip:{number}@fakepbx.test",
        "tenant_id": "1",
        "time": str(int(at)),
        **fields,
    }


@pytest.mark.parametrize(
    "running_ttl", [{"IVRHOOKS_PRESENCE_TTL": "30"}], ids=["ttl-30s"], indirect=True
)
async def test_over_http_messages_merge_in_time_order_and_stale_ones_are_ignored(
    running_ttl: tuple[RunningApp, list[dict[str, Any]]],
) -> None:
    r, read = running_ttl
    now = time.time()
    # Sent out of order: the DND set 5 s ago arrives after the call status of 2 s ago and
    # before an ONLINE of 20 s ago, which must not undo it.
    said = [
        message("extension_call", "2001", now - 2, call_status=""),
        message("extension_presence", "2001", now - 5, presence="DO_NOT_DISTURB"),
        message("extension_presence", "2001", now - 20, presence="ONLINE"),
        message("extension_status", "2002", now - 60, online=True, presence="ONLINE"),  # > TTL
        message("extension_presence", "2003", now - 1, presence="ONLINE"),
    ]
    assert [await post_extension(r, body) for body in said] == [200] * len(said)
    answered = await r.dial("8000", "5551234", "1")
    assert (read[0]["2001"], read[0]["2002"], read[0]["2003"]) == ("dnd", None, "available")
    assert answered.destination == "2003"


@pytest.fixture
async def running_ttl(
    request: pytest.FixtureRequest,
) -> Any:
    read: list[dict[str, Any]] = []
    async with running(_reading(read), environ=request.param) as r:
        yield r, read


@pytest.mark.parametrize("trouble", ["stopped", "hanging"])
async def test_a_store_that_fails_or_hangs_makes_presence_unknown_not_a_failed_call(
    redis_server: RedisServer, trouble: str
) -> None:
    read: list[dict[str, Any]] = []
    environ = {"IVRHOOKS_REDIS_URL": redis_server.url}
    async with running(_reading(read), environ=environ) as r:
        pbx = served(r).pbx
        pbx.set_extension("2004", "answer")
        await pbx.events_sent()
        healthy = await r.dial("8000", "5551234", "1")
        proc = redis_server.proc
        assert proc is not None
        if trouble == "stopped":
            redis_server.stop()
        else:
            proc.send_signal(signal.SIGSTOP)  # accepts connections, answers nothing
        try:
            started = time.perf_counter()
            troubled = await r.dial("8000", "5551234", "1")
            took = time.perf_counter() - started
        finally:
            if trouble == "hanging":
                proc.send_signal(signal.SIGCONT)
            else:
                redis_server.start()
        sent = await pbx.events_sent()  # the call's, posted while the store was in trouble
    print(f"\nRedis {trouble}: answered {troubled.destination} after {took * 1000:.0f} ms")
    assert healthy.destination == "2004" and read[0]["2004"] == "available"
    assert (troubled.status, troubled.error) == (200, None), "answered before the PBX gave up"
    assert troubled.destination == "2999" and set(read[1].values()) == {None}
    assert troubled.outcome is not None and troubled.outcome["answered_by"] == "route"
    assert all(delivered(sent).values()), "its events were taken, presence or not"


async def test_a_hanging_store_is_waited_for_once_per_request() -> None:
    class Hanging:
        asked = 0

        async def get(self, key: str) -> bytes | None:
            self.asked += 1
            await asyncio.sleep(3600)
            return None

        async def swap(self, key: str, old: bytes | None, new: bytes | None, *, ttl: float) -> bool:
            return False

    store = Hanging()
    due = Deadline.of(1.5).start(asyncio.get_running_loop().time())
    context = CallContext(due, presence=PresenceView(store, "app", ttl=300))
    async with asyncio.timeout(30):  # not a measure: it returns, or the store held it an hour
        assert await context.presence("2001") is None
        assert await context.first_available(WATCHED) is None
    assert store.asked == 1, "the request's later reads did not wait on the store again"
