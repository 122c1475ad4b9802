"""What becomes of the events the fake PBX posts to a served app: each handled once however often
and in whatever order it came; a full backlog answered 503 and nothing lost once the PBX sends
again; a failing handler retried, then dead where ``ivrhooks events dead`` finds it; handlers'
resources by parameter name; and an app without handlers still answering and keeping presence."""

from __future__ import annotations

import asyncio
import json
import os
import random
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from ivrhooks import ActionRequest, IVRHooks, call
from ivrhooks.cli.loader import load_app
from ivrhooks.events import ExtensionEvent, event_digest
from ivrhooks.fakepbx.webhooks import EventFaults, SentEvent
from ivrhooks.testing import running
from tests.events.served import basic_auth, delivered, digests, outcomes, quiet, served, until
from tests.redis_server import RedisServer

SECRET = "events-handling-secret-0123456789"


def digest_of(event: Any) -> str:
    """The digest the receiver gave the event, from what the handler got."""
    return event_digest("extension" if isinstance(event, ExtensionEvent) else "cdr", event.raw)


def _forwarding(handled: Counter[str], release: asyncio.Event | None = None) -> IVRHooks:
    """Key 1-4 at 8000: forwarded to 2001-2004. Every event counted by digest once handled,
    after ``release`` when given."""
    app = IVRHooks(receptionists=["8000"], secret=SECRET, env=False)

    @app.event("*")
    async def every(event: Any) -> None:
        if release is not None:
            await release.wait()
        handled[digest_of(event)] += 1

    @app.dtmf("1-4")
    async def forward(req: ActionRequest) -> object:
        return call(f"200{req.digits}")

    return app


def _first_sent(sent: list[SentEvent], session_id: str) -> list[str]:
    return [s.event_type for s in sent if s.session_id == session_id and s.attempt == 1]


async def test_duplicated_and_shuffled_events_from_the_pbx_are_each_handled_once() -> None:
    handled: Counter[str] = Counter()
    async with running(_forwarding(handled), environ={}) as r:
        served(r).pbx.webhooks.sender.faults = EventFaults(
            duplicate=1.0, reorder=True, rng=random.Random(7)
        )
        r.pbx.set_extension("2002", "busy")
        r.pbx.set_extension("2003", "offline")
        calls = [await r.dial("8000", "5551234", digit) for digit in "1234"]
        sent = await r.pbx.events_sent()
        found = await quiet(r.url)
    orders = [_first_sent(sent, str(c.fields["session_id"])) for c in calls]
    assert any(o.index("call_cdr") < o.index("call_start") for o in orders), "reordered"
    assert sum(s.copy for s in sent) * 2 == len(sent), "every event sent twice"
    assert all(s.status == 200 for s in sent)
    assert set(handled) == digests(sent)
    assert set(handled.values()) == {1}, "each event handled once"
    assert found["duplicate"] == len(sent) - len(handled)


async def test_a_full_backlog_answers_503_and_what_the_pbx_sends_again_is_handled_once() -> None:
    handled: Counter[str] = Counter()
    release = asyncio.Event()
    environ = {"IVRHOOKS_EVENTS_BACKLOG": "2", "IVRHOOKS_EVENTS_CONCURRENCY": "1"}
    async with running(_forwarding(handled, release), environ=environ) as r:
        sender = served(r).pbx.webhooks.sender
        # PortSIP retries for 15 minutes or 24 hours; the fake's default waits add up to 0.4 s.
        sender.retry_waits = (0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.4)
        refused = asyncio.Event()

        def heard(sent: SentEvent) -> None:
            if sent.status == 503:
                refused.set()

        r.pbx.listen_events(heard)
        await r.dial("8000", "5551234", "1")
        await asyncio.wait_for(refused.wait(), 10)
        late = {"event_type": "call_cdr", "session_id": "not-stored", "call_status": "answered"}
        async with httpx.AsyncClient(auth=basic_auth(SECRET, "cdr")) as http:
            busy = await http.post(r.url + "/events/cdr", json=late)
        release.set()
        sent = await r.pbx.events_sent()
        found = await quiet(r.url)
    assert busy.status_code == 503 and int(busy.headers["retry-after"]) > 0
    assert found["full"] >= 2 and any(s.status == 503 for s in sent)
    assert all(delivered(sent).values()), "the PBX got a 200 for every event in the end"
    assert set(handled) == digests(sent), "nothing lost"
    assert set(handled.values()) == {1}, "nothing twice"
    assert event_digest("cdr", late) not in handled, "nothing of the 503'd request was stored"


FAILING_APP = """
from ivrhooks import IVRHooks

app = IVRHooks(receptionists=["8000"])


@app.resource
async def attempts():
    yield []


@app.event("call_cdr")
async def note(event, attempts):
    attempts.append(event.attempt)
    raise LookupError("the CRM has no record of this call")
"""


async def test_a_failing_handler_is_retried_then_dead_and_listed(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    path = tmp_path / "failing_events.py"
    path.write_text(FAILING_APP)
    environ = {
        "IVRHOOKS_EMBEDDED_PBX": "true",
        "IVRHOOKS_SECRET": SECRET,
        "IVRHOOKS_REDIS_URL": redis_server.url,
        "IVRHOOKS_APP_ID": "failing",
        "IVRHOOKS_EVENTS_MAX_ATTEMPTS": "2",
    }
    attempts: list[int] = []
    async with running(load_app(str(path)), environ=environ, resources={"attempts": attempts}) as r:
        served(r)
        await r.dial("8000", "5551234")  # no route: the PBX plays on, and the call ends there
        await r.pbx.events_sent()
        await until(lambda: len(attempts) == 2)
        found = await quiet(r.url)
    assert attempts == [1, 2]
    assert (found["retried"], found["dead"]) == (1, 1)
    env = {k: v for k, v in os.environ.items() if not k.startswith("IVRHOOKS_")}
    proc = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "ivrhooks", "events", "dead", str(path), "--json"),
        env={**env, **environ},
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await proc.communicate()
    assert proc.returncode == 0
    dead = json.loads(out)["dead"]
    assert [(d["event_type"], d["attempts"], d["error_type"]) for d in dead] == [
        ("call_cdr", 2, "LookupError")
    ]
    assert "body" not in dead[0], "a caller's number stays out unless asked for"


async def test_handlers_get_the_apps_resources_by_parameter_name() -> None:
    got: list[tuple[str, object, object]] = []

    class CRM:
        pass

    app = IVRHooks(receptionists=["8000"], secret=SECRET, env=False)

    @app.resource
    async def crm() -> Any:
        yield CRM()

    @app.resource
    async def audit() -> Any:
        yield ["opened"]

    @app.event("call_cdr", "cdr_target_answer")
    async def note(event: Any, audit: list[str], crm: CRM) -> None:
        got.append((event.type, crm, audit))

    @app.dtmf("1")
    async def one(req: ActionRequest) -> object:
        return call("2001")

    async with running(app, environ={}) as r:
        await served(r).dial("8000", "5551234", "1")
        await r.pbx.events_sent()
        await quiet(r.url)
    assert sorted(t for t, _, _ in got) == ["call_cdr", "cdr_target_answer"]
    assert all(isinstance(c, CRM) and a == ["opened"] for _, c, a in got)
    assert got[0][1] is got[1][1], "one resource, set up once"


async def test_an_app_without_event_handlers_answers_200_and_keeps_presence() -> None:
    app = IVRHooks(receptionists=["8000"], secret=SECRET, env=False)

    @app.dtmf("1")
    async def sales(req: ActionRequest) -> object:
        return call("2001" if await req.presence("2001") == "available" else "2999")

    async with running(app, environ={}) as r:
        before = await served(r).dial("8000", "5551234", "1")
        await r.pbx.events_sent()
        r.pbx.set_extension("2001", "answer")  # registered, in no call, presence ONLINE
        await r.pbx.events_sent()
        after = await r.dial("8000", "5551234", "1")
        sent = await r.pbx.events_sent()
        found = await outcomes(r.url)
    assert (before.destination, after.destination) == ("2999", "2001")
    assert sent and all(s.status == 200 for s in sent)
    assert found["read"] == len(sent) and found["accepted"] == 0
