"""Per-call sessions, through the fake PBX: state kept across receptionists, never across calls,
saved only with a decision, expiring after IVRHOOKS_SESSION_TTL (in memory and in a real
redis-server), capped, counted, and refused clearly without a session id."""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio
from click.testing import CliRunner

from ivrhooks import IVRHooks, ServingConfig, call, repeat
from ivrhooks.cli import main
from ivrhooks.core.request import ActionRequest
from ivrhooks.core.sessions import SessionBroker
from ivrhooks.store import MemoryStore
from ivrhooks.testing import RunningApp, free_port, running
from tests.redis_server import RedisServer

SEEN: list[dict[str, Any]] = []


def _menu(**serving: Any) -> IVRHooks:
    app = IVRHooks(receptionists=["8000"], env=False, serving=ServingConfig(**serving))

    @app.dtmf("1000-9999")
    async def remember(req: ActionRequest) -> object:
        session = await req.session()
        session["account"] = req.digits
        return call("8001")

    @app.dtmf("1", receptionists=["8001"])
    async def recall(req: ActionRequest) -> object:
        session = await req.session()
        SEEN.append(dict(session))
        return call("2" + session.get("account", "000")[-3:])

    @app.dtmf("2", receptionists=["8001"])
    async def breaks_after_writing(req: ActionRequest) -> object:
        session = await req.session()
        session["account"] = "tampered"
        raise RuntimeError("after writing")

    @app.dtmf("3", receptionists=["8001"])
    async def overruns_after_writing(req: ActionRequest) -> object:
        session = await req.session()
        session["account"] = "late"
        await asyncio.sleep(30)
        return call("1")

    @app.dtmf("4", receptionists=["8001"])
    async def hoards(req: ActionRequest) -> object:
        session = await req.session()
        session["blob"] = "x" * 20_000
        return call("1")

    @app.dtmf("6", receptionists=["8001"])
    async def forgets_to_return(req: ActionRequest) -> object:
        session = await req.session()
        session["account"] = "unreturned"
        return None  # an invalid decision: the handler has no answer

    @app.dtmf("7", receptionists=["8001"])
    async def answers_a_word(req: ActionRequest) -> object:
        session = await req.session()
        session["account"] = "worded"
        return "operator"  # a string that is no number: an invalid decision

    @app.dtmf("8", receptionists=["8001"])
    def in_a_thread(req: ActionRequest) -> object:
        session = req.session()  # a plain def handler: no event loop here to load it with
        session["account"] = "threaded"  # type: ignore[index]
        return call("1")

    @app.dtmf("5", receptionists=["8001"])
    async def counts(req: ActionRequest) -> object:
        session = await req.session()
        return call("0") if session.attempts >= 3 else repeat()

    @app.fallback
    def operator(req: ActionRequest) -> object:
        return call("0")

    return app


@pytest.fixture
async def harness() -> AsyncIterator[RunningApp]:
    SEEN.clear()
    async with running(_menu()) as h:
        yield h


async def test_what_one_receptionist_writes_the_next_reads_in_the_same_call(
    harness: RunningApp,
) -> None:
    flow = await harness.pbx.call("8000", "101", ["4321", "1"])
    assert [(h.fields["to"], h.destination) for h in flow.hops] == [
        ("8000", "8001"),
        ("8001", "2321"),
    ]
    assert SEEN == [{"account": "4321"}]


async def test_two_calls_from_one_number_at_once_do_not_share_state(harness: RunningApp) -> None:
    first, second = await asyncio.gather(
        harness.pbx.call("8000", "5551234", ["1111", "1"]),
        harness.pbx.call("8000", "5551234", ["2222", "1"]),
    )
    assert first.session_id != second.session_id
    assert (first.hops[-1].destination, second.hops[-1].destination) == ("2111", "2222")


@pytest.mark.parametrize(
    ("digit", "cause"),
    [("2", "error"), ("3", "timeout"), ("6", "invalid"), ("7", "invalid")],
    ids=["raises", "overruns", "returns-none", "returns-a-word"],
)
async def test_a_failing_overrunning_or_invalid_handler_saves_nothing(
    harness: RunningApp, digit: str, cause: str
) -> None:
    flow = await harness.pbx.call("8000", "101", ["4321", digit])
    assert flow.hops[-1].destination == "0", "the fallback answered"
    outcome = flow.hops[-1].outcome
    assert outcome is not None and (outcome["answered_by"], outcome["cause"]) == ("fallback", cause)
    after = await harness.pbx.call("8001", "101", ["1"], session_id=flow.session_id)
    assert after.hops[-1].destination == "2321", "the account is as the last decision left it"


async def test_a_session_over_its_cap_is_a_handler_failure(
    harness: RunningApp, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="ivrhooks.handler"):
        flow = await harness.pbx.call("8000", "101", ["4321", "4"])
    assert flow.hops[-1].destination == "0"
    outcome = flow.hops[-1].outcome
    assert outcome is not None and (outcome["answered_by"], outcome["cause"]) == (
        "fallback",
        "session",
    )
    (line,) = [r for r in caplog.records if "session" in r.getMessage()]
    assert "over the cap of 16384" in line.getMessage() and line.exc_info is None


async def test_a_sync_handler_asking_for_the_session_is_told_to_be_async_in_one_line(
    harness: RunningApp, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="ivrhooks.handler"):
        flow = await harness.pbx.call("8000", "101", ["4321", "8"])
    assert flow.hops[-1].destination == "0", "the fallback answered"
    outcome = flow.hops[-1].outcome
    assert outcome is not None and (outcome["answered_by"], outcome["cause"]) == (
        "fallback",
        "session",
    )
    (line,) = [r for r in caplog.records if r.name == "ivrhooks.handler"]
    assert "needs an async handler" in line.getMessage() and "async def" in line.getMessage()
    assert line.exc_info is None
    (route,) = [r for r in harness.app.routes if r.name == "in_a_thread"]
    source, first = inspect.getsourcelines(route.handler)
    asked = first + next(n for n, text in enumerate(source) if "req.session()" in text)
    assert getattr(line, "where", "").endswith(f"test_sessions.py:{asked}"), "where it asked"
    after = await harness.pbx.call("8001", "101", ["1"], session_id=flow.session_id)
    assert after.hops[-1].destination == "2321", "nothing was saved"


async def test_attempts_count_the_route_in_this_call_and_cap_it(harness: RunningApp) -> None:
    flow = await harness.pbx.call("8001", "101", ["5", "5", "5", "5"])
    assert [h.action for h in flow.hops] == ["repeat", "repeat", "call"]
    assert flow.hops[-1].destination == "0", "the third time: the operator"
    fresh = await harness.pbx.call("8001", "101", ["5"])
    assert fresh.hops[-1].action == "repeat", "another call counts from one"


async def test_without_a_session_id_the_fallback_answers_with_one_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    import httpx

    app = _menu()
    app_server = app.build(app.configure())
    creds = app_server.runtime.manifest.get("remember")
    assert creds is not None and creds.credentials is not None
    transport = httpx.ASGITransport(app=app_server)
    with caplog.at_level(logging.ERROR, logger="ivrhooks.handler"):
        async with httpx.AsyncClient(transport=transport, base_url="http://pbx") as client:
            r = await client.post(
                "/hooks/remember",
                json={"from": "101", "to": "8000", "input": "4321"},  # an older PBX: no session_id
                auth=(creds.credentials.username, creds.credentials.password),
            )
    assert r.json() == {"status_code": 200, "action": "call", "destination": "0"}
    (line,) = [rec for rec in caplog.records if rec.name == "ivrhooks.handler"]
    assert "session_id" in line.getMessage() and "late 2025" in line.getMessage()
    assert line.exc_info is None, "no traceback: the PBX's age is not a bug"


async def test_a_session_expires_after_its_last_write() -> None:
    clock = [0.0]
    store = MemoryStore(clock=lambda: clock[0])
    broker = SessionBroker(store, "app", ttl=60, max_bytes=ServingConfig().session_max_bytes)
    session = await broker.load("s1", "route")
    session["k"] = "v"
    await broker.save("s1", session)
    clock[0] = 59
    read = await broker.load("s1", "route")
    assert read["k"] == "v" and read.attempts == 2
    await broker.save("s1", read)  # a handler that asked for the session writes its count
    clock[0] = 59 + 59
    assert (await broker.load("s1", "route"))["k"] == "v", "the last write restarted the clock"
    clock[0] = 59 + 61
    assert dict(await broker.load("s1", "route")) == {}, "60 s after the last write: gone"


async def test_two_requests_of_one_call_at_once_the_first_save_wins(
    caplog: pytest.LogCaptureFixture,
) -> None:
    defaults = ServingConfig()
    broker = SessionBroker(
        MemoryStore(), "app", ttl=defaults.session_ttl, max_bytes=defaults.session_max_bytes
    )
    a = await broker.load("s", "r")
    b = await broker.load("s", "r")
    a["who"] = "a"
    b["who"] = "b"
    assert await broker.save("s", a) is True
    with caplog.at_level(logging.WARNING, logger="ivrhooks.handler"):
        assert await broker.save("s", b) is False
    assert (await broker.load("s", "r"))["who"] == "a"
    assert "not saved" in caplog.text


async def test_ivrhooks_session_ttl_is_how_long_a_served_session_lives() -> None:
    # The variable, through the app's configuration and the composition root, to the store: the
    # default (an hour) would keep the account below, so would a TTL that never reached it.
    SEEN.clear()
    async with running(_menu(), environ={"IVRHOOKS_SESSION_TTL": "1.5"}) as harness:
        assert harness.runtime.config.serving.session_ttl == 1.5
        flow = await harness.pbx.call("8000", "101", ["4321"])
        alive = await harness.pbx.call("8001", "101", ["1"], session_id=flow.session_id)
        written = time.monotonic()  # that request wrote too (its attempt count)
        assert alive.hops[-1].destination == "2321", "within the TTL the account is there"
        await asyncio.sleep(max(0.0, written + 1.5 + 0.3 - time.monotonic()))
        gone = await harness.pbx.call("8001", "101", ["1"], session_id=flow.session_id)
    assert gone.hops[-1].destination == "2000", "1.5 s after the last write: a fresh session"
    assert SEEN == [{"account": "4321"}, {}]


async def test_in_redis_a_saved_session_key_expires_after_ivrhooks_session_ttl(
    redis_server: RedisServer,
) -> None:
    environ = {"IVRHOOKS_SESSION_TTL": "90", "IVRHOOKS_REDIS_URL": redis_server.url}
    client = redis.asyncio.Redis.from_url(redis_server.url)
    try:
        async with running(_menu(), environ=environ) as harness:
            assert harness.runtime.store.kind == "redis"
            flow = await harness.pbx.call("8000", "101", ["4321"])
            key = f"ivrhooks:{harness.runtime.manifest.app_id}:session:{flow.session_id}"
            pttl = await client.pttl(key)
            stored = await client.get(key)
    finally:
        await client.aclose()
    assert flow.hops[-1].destination == "8001"
    assert stored is not None and json.loads(stored)["data"] == {"account": "4321"}
    assert 85_000 < pttl <= 90_000, f"PTTL {pttl} ms, not IVRHOOKS_SESSION_TTL=90 s"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("soon", "IVRHOOKS_SESSION_TTL='soon': must be a number"),
        ("0", "IVRHOOKS_SESSION_TTL='0': must be at least 1"),  # as typed
        ("1e9", "IVRHOOKS_SESSION_TTL='1e9': must be at most 604800"),
    ],
    ids=["not-a-number", "zero", "over-a-week"],
)
def test_a_bad_ivrhooks_session_ttl_is_one_line_naming_it_and_the_value(
    tmp_path: Path, value: str, message: str
) -> None:
    app = tmp_path / "ttl_app.py"
    app.write_text(
        "from ivrhooks import IVRHooks, call\n"
        'app = IVRHooks(receptionists=["8000"])\n'
        '@app.dtmf("1")\n'
        "async def sales(req):\n"
        '    return call("2001")\n'
    )
    args = ["run", str(app), "--port", "0", "--pbx-port", str(free_port()), "--no-ui"]
    result = CliRunner().invoke(main, args, env={"IVRHOOKS_SESSION_TTL": value})
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    (line,) = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert line == f"Error: {message}", result.output
