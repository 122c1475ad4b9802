"""Serving action-URL requests through the ASGI app: routing, parsing, fallbacks, deadlines."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from ivrhooks import ActionRequest, IVRHooks, RegistrationConfig, call, hangup, repeat
from tests.conftest import new_app

Client = Callable[[IVRHooks], httpx.AsyncClient]

CALL = {"from": "101", "to": "8000", "input": "1", "from_name": "Ann", "account_name": "Main"}


async def post(client: httpx.AsyncClient, path: str, **fields: str) -> httpx.Response:
    return await client.post(path, json={**CALL, **fields})


@pytest.mark.parametrize(
    ("kind", "mask", "value"),
    [
        ("dtmf", "1", "1"),
        ("dtmf", "1;2;3", "2"),
        ("dtmf", "3000-4000", "3500"),
        ("dtmf", "3000-4000", "4000"),
        ("dtmf", "55*1", "5591"),
        ("dtmf", "ALL", "#9*"),
        ("caller", "5551234", "5551234"),
        ("caller", "*****", "12345"),
        ("caller", "860000-880000", "+870000"),
    ],
    ids=[
        "exact",
        "list",
        "range",
        "range-edge",
        "star",
        "all",
        "caller-exact",
        "caller-star",
        "caller-range-plus",
    ],
)
async def test_each_mask_form_reaches_its_handler(
    client_for: Client, kind: str, mask: str, value: str
) -> None:
    app = new_app()
    seen: list[ActionRequest] = []

    async def handler(req: ActionRequest) -> object:
        seen.append(req)
        return call("2001")

    getattr(app, kind)(mask)(handler)
    field = "input" if kind == "dtmf" else "from"
    async with client_for(app) as client:
        r = await post(client, "/hooks/handler", **{field: value})
    assert r.status_code == 200
    assert r.json() == {"status_code": 200, "action": "call", "destination": "2001"}
    assert len(seen) == 1 and seen[0].kind == kind.upper()


async def test_get_and_post_carry_the_same_fields(client_for: Client) -> None:
    app = new_app(methods=("GET", "POST"))  # both on purpose: the fields must agree
    seen: list[ActionRequest] = []

    @app.dtmf("1")
    async def menu(req: ActionRequest) -> object:
        seen.append(req)
        return hangup()

    async with client_for(app) as client:
        r1 = await client.get(
            "/hooks/menu?session_id=77&from=101&to=8000&input=1&from_name=J%C3%A9&account_name=Main"
        )
        r2 = await client.post(
            "/hooks/menu",
            content=b'{"session_id":"77","from":"101","to":"8000","input":"1",'
            b'"from_name":"J\xc3\xa9","account_name":"Main"}',
            headers={"content-type": "text/plain"},
        )
        r3 = await client.post(
            "/hooks/menu",
            content=b"session_id=77&from=101&to=8000&input=1&from_name=J%C3%A9&account_name=Main",
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
    assert [r.json()["action"] for r in (r1, r2, r3)] == ["hangup"] * 3
    assert [(s.method, s.caller, s.caller_name, s.session_id, s.receptionist) for s in seen] == [
        ("GET", "101", "Jé", "77", "Main"),
        ("POST", "101", "Jé", "77", "Main"),
        ("POST", "101", "Jé", "77", "Main"),
    ]


async def test_bare_string_means_call_and_sync_handlers_run_in_a_thread(client_for: Client) -> None:
    app = new_app()
    threads: list[str] = []

    @app.caller("5551234")
    def vip(req: ActionRequest) -> str:
        threads.append(threading.current_thread().name)
        return "2002"

    async with client_for(app) as client:
        r = await post(client, "/hooks/vip", **{"from": "5551234", "input": ""})
    assert r.json() == {"status_code": 200, "action": "call", "destination": "2002"}
    assert threads and threads[0] != threading.main_thread().name


async def test_decorators_return_the_function_unchanged() -> None:
    app = new_app()

    async def f(req: ActionRequest) -> object:
        return repeat()

    assert app.dtmf("1")(f) is f
    assert app.fallback(f) is f


@pytest.mark.parametrize(
    ("fields", "cause"),
    [({"input": "2"}, "no_match"), ({"to": "9999"}, "receptionist")],
    ids=["digits-outside-mask", "other-receptionist"],
)
async def test_request_that_does_not_fit_its_route_gets_the_fallback(
    client_for: Client, fields: dict[str, str], cause: str, caplog: pytest.LogCaptureFixture
) -> None:
    app = new_app()
    called: list[str] = []

    @app.dtmf("1")
    async def one(req: ActionRequest) -> object:
        called.append("one")
        return call("100")

    @app.fallback
    async def default(req: ActionRequest) -> object:
        return call("0")

    with caplog.at_level(logging.WARNING, logger="ivrhooks.request"):
        async with client_for(app) as client:
            r = await post(client, "/hooks/one", **fields)
    assert r.json()["destination"] == "0"
    assert called == []
    assert any(getattr(rec, "cause", None) == cause for rec in caplog.records)


def _failing_handlers() -> dict[str, Callable[..., Any]]:
    async def raises(req: ActionRequest) -> object:
        raise RuntimeError("boom")

    async def invalid(req: ActionRequest) -> object:
        return {"action": "call"}

    async def not_dialable(req: ActionRequest) -> object:
        return call("reception")

    def sync_raises(req: ActionRequest) -> object:
        raise ValueError("bad")

    async def returns_none(req: ActionRequest) -> object:
        return None

    return {
        "raises": raises,
        "invalid": invalid,
        "not_dialable": not_dialable,
        "sync_raises": sync_raises,
        "returns_none": returns_none,
    }


SOURCE = Path(__file__).read_text().splitlines()


@pytest.mark.parametrize("name", list(_failing_handlers()))
async def test_failing_handler_answers_the_fallback_and_logs_the_users_line(
    client_for: Client, name: str, caplog: pytest.LogCaptureFixture
) -> None:
    app = new_app()
    app.dtmf("1", name="menu")(_failing_handlers()[name])

    @app.fallback
    def default(req: ActionRequest) -> object:
        return call("0")

    with caplog.at_level(logging.ERROR, logger="ivrhooks.handler"):
        async with client_for(app) as client:
            r = await post(client, "/hooks/menu")
    assert r.status_code == 200
    assert r.json() == {"status_code": 200, "action": "call", "destination": "0"}
    (record,) = [rec for rec in caplog.records if rec.name == "ivrhooks.handler"]
    where = getattr(record, "where", "")
    assert where.startswith("tests/server/test_endpoint.py:"), where
    line = int(where.rpartition(":")[2])
    source = SOURCE[line - 1]
    if name in ("raises", "sync_raises"):
        # Its type and stack, as exc_text (exc_info would bring the message along).
        assert record.exc_text and record.exc_text.startswith("Traceback"), record.exc_text
        assert "NoneType" not in record.exc_text
        assert "raise" in source, f"the line that raised: {source!r}"
    else:
        # A bad return value raised nothing in the user's code: no traceback through ivrhooks'
        # internals, but the handler's own line and what it returned.
        assert record.exc_info is None
        assert source.lstrip().startswith("async def"), source
        assert "decision" in record.getMessage()


async def test_without_a_fallback_the_answer_is_repeat(client_for: Client) -> None:
    app = new_app()

    @app.dtmf("1")
    async def menu(req: ActionRequest) -> object:
        raise RuntimeError("boom")

    async with client_for(app) as client:
        r = await post(client, "/hooks/menu")
    assert r.json() == {"status_code": 200, "action": "repeat"}


async def test_a_failing_fallback_answers_repeat(client_for: Client) -> None:
    app = new_app()

    @app.dtmf("1")
    async def menu(req: ActionRequest) -> object:
        raise RuntimeError("boom")

    @app.fallback
    async def default(req: ActionRequest) -> object:
        raise RuntimeError("fallback boom")

    async with client_for(app) as client:
        r = await post(client, "/hooks/menu")
    assert r.json() == {"status_code": 200, "action": "repeat"}


BUDGET = 0.3
# What "in time" means to the PBX: it gives up on a request after its 2 s request timeout.
# The handlers below would take 30 s; the answer comes at the budget, far from either bound.
PBX_TIMEOUT = 2.0


@pytest.mark.parametrize("sync", [False, True], ids=["async", "sync"])
async def test_overrunning_handler_answers_the_fallback_within_budget(
    client_for: Client, sync: bool
) -> None:
    app = new_app(deadline=BUDGET)
    release = threading.Event()
    cancelled = asyncio.Event()

    async def slow_async(req: ActionRequest) -> object:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return call("1")

    def slow_sync(req: ActionRequest) -> object:
        release.wait(30)
        return call("1")

    app.dtmf("1", name="slow")(slow_sync if sync else slow_async)

    @app.fallback
    async def default(req: ActionRequest) -> object:
        return call("0")

    async with client_for(app) as client:
        started = time.perf_counter()
        r = await post(client, "/hooks/slow")
        elapsed = time.perf_counter() - started
    release.set()
    print(f"\nfallback answered after {elapsed:.3f} s (budget {BUDGET} s)")
    assert r.json()["destination"] == "0"
    assert elapsed < PBX_TIMEOUT, elapsed
    if not sync:
        assert cancelled.is_set(), "an overrunning async handler is cancelled"


async def test_slow_fallback_after_slow_handler_still_answers_in_time(client_for: Client) -> None:
    app = new_app(deadline=BUDGET)

    @app.dtmf("1")
    async def slow(req: ActionRequest) -> object:
        await asyncio.sleep(30)
        return call("1")

    @app.fallback
    async def default(req: ActionRequest) -> object:
        await asyncio.sleep(30)
        return call("0")

    async with client_for(app) as client:
        started = time.perf_counter()
        r = await post(client, "/hooks/slow")
        elapsed = time.perf_counter() - started
    print(f"\nrepeat() answered after {elapsed:.3f} s (budget {BUDGET} s)")
    assert r.json()["action"] == "repeat"
    assert elapsed < PBX_TIMEOUT, elapsed


async def test_handler_sees_its_deadline(client_for: Client) -> None:
    # A long budget (below a PBX timeout as long): the time before the handler runs is the
    # machine's, so what is left is compared with the budget, not a fraction of a second.
    app = new_app(deadline=30.0, registration=RegistrationConfig(request_timeout=60))
    left: list[float] = []

    @app.dtmf("1")
    async def menu(req: ActionRequest) -> object:
        left.append(req.time_left())
        return hangup()

    async with client_for(app) as client:
        await post(client, "/hooks/menu")
    assert 20.0 < left[0] <= 30.0


@pytest.mark.parametrize(
    ("content", "status"),
    [
        (b"[1]", 400),
        (b"not json {", 400),
        (b'{"to": "8000"}', 400),
        (b'{"from": "101"}', 400),
        (b"", 400),
        (b'{"from": "' + b"1" * 20_000 + b'", "to": "8000"}', 400),
    ],
    ids=["array", "garbage", "no-from", "no-to", "empty", "oversized"],
)
async def test_malformed_requests_get_a_json_error_and_never_reach_the_handler(
    client_for: Client, content: bytes, status: int
) -> None:
    app = new_app()
    called: list[int] = []

    @app.dtmf("1")
    async def menu(req: ActionRequest) -> object:
        called.append(1)
        return hangup()

    async with client_for(app) as client:
        r = await client.post("/hooks/menu", content=content)
    assert r.status_code == status
    assert "error" in r.json()
    assert called == []


async def test_other_methods_and_paths(client_for: Client) -> None:
    app = new_app()

    @app.dtmf("1")
    async def menu(req: ActionRequest) -> object:
        return hangup()

    async with client_for(app) as client:
        put = await client.put("/hooks/menu", json=CALL)
        get = await client.get("/hooks/menu?from=101&to=8000&input=1")
        missing = await client.post("/hooks/nothing", json=CALL)
        health = await client.get("/healthz")
    # Registered as POST (the default): every other method is 405, GET included.
    assert put.status_code == 405 and put.headers["allow"] == "POST"
    assert get.status_code == 405 and get.json() == {"error": "use POST"}
    assert missing.status_code == 404
    assert health.status_code == 200 and health.json() == {"status": "ok"}


async def test_root_path_is_stripped_before_routing(client_for: Client) -> None:
    app = new_app()

    @app.dtmf("1")
    async def menu(req: ActionRequest) -> object:
        return hangup()

    transport = httpx.ASGITransport(app=app, root_path="/ivr")
    async with httpx.AsyncClient(transport=transport, base_url="http://pbx") as client:
        r = await client.post("/ivr/hooks/menu", json=CALL)
    assert r.json()["action"] == "hangup"


async def test_lifespan_sets_up_resources_for_handlers() -> None:
    events: list[str] = []

    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def lifespan(app: IVRHooks) -> AsyncIterator[dict[str, object]]:
        events.append("start")
        yield {"crm": "client"}
        events.append("stop")

    app = new_app(lifespan=lifespan)

    @app.dtmf("1")
    async def menu(req: ActionRequest) -> object:
        return call("100") if app.state.crm == "client" else hangup()

    from ivrhooks.testing import serve

    async with serve(app) as url, httpx.AsyncClient() as client:
        r = await client.post(url + "/hooks/menu", json=CALL)
        assert events == ["start"]
    assert r.json()["destination"] == "100"
    assert events == ["start", "stop"]


async def test_one_app_can_be_served_again_after_shutdown() -> None:
    """Sync handlers still get a thread pool the second time (tests reuse module-level apps)."""
    from ivrhooks.testing import serve

    app = new_app()

    @app.dtmf("1")
    def menu(req: ActionRequest) -> object:
        return call("100")

    for _ in range(2):
        async with serve(app) as url, httpx.AsyncClient() as client:
            r = await client.post(url + "/hooks/menu", json=CALL)
        assert r.json()["destination"] == "100"


async def test_freeze_gc_moves_startup_objects_out_of_collections() -> None:
    import gc

    from ivrhooks.testing import serve

    app = new_app(freeze_gc=True)

    @app.dtmf("1")
    async def menu(req: ActionRequest) -> object:
        return call("100")

    gc.unfreeze()
    try:
        async with serve(app) as url, httpx.AsyncClient() as client:
            frozen = gc.get_freeze_count()
            r = await client.post(url + "/hooks/menu", json=CALL)
        assert frozen > 0
        assert r.json()["destination"] == "100"
    finally:
        gc.unfreeze()
