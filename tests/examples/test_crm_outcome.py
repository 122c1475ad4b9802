"""The CRM outcome example end to end: the app, the CRM service and the fake PBX, with HTTP
between all three. Callers reach their manager only when the PBX's extension events said the
manager is free; every call's ending is noted in the CRM beside the app's decision, once per
call even when the note is written twice."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from crm_service import create_app as create_crm
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ivrhooks.cli.loader import load_app
from ivrhooks.testing import running, serve
from tests.events.served import quiet, served, until

EXAMPLE = str(Path(__file__).parents[2] / "examples" / "crm_outcome.py")
QUEUE = "6000"


def losing_first_answers(inner: ASGIApp) -> ASGIApp:
    """The CRM, except that the first answer to each note is lost (503 after it was stored): the
    handler fails, ivrhooks runs it again, and the CRM is sent the same note twice."""
    lost: set[str] = set()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "PUT" or scope["path"] in lost:
            await inner(scope, receive, send)
            return
        lost.add(scope["path"])

        async def unavailable(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "status": 503}
            await send(message)

        await inner(scope, receive, unavailable)

    return app


@pytest.fixture
async def crm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Any]:
    service = create_crm(tmp_path / "crm.sqlite3")
    async with serve(losing_first_answers(service)) as url:
        monkeypatch.setenv("CRM_URL", url)
        service.state.url = url
        yield service


async def test_callers_reach_a_free_manager_else_the_queue_and_every_call_is_noted(
    crm: Any, tmp_path: Path
) -> None:
    app = load_app(EXAMPLE)
    async with running(app, environ={}) as r:
        pbx = served(r).pbx
        pbx.set_extension("2001", "answer")  # Ada's manager: registered, free
        pbx.set_extension("2002", "busy")  # Grace's: in a call
        pbx.set_extension("2003", "answer", presence="DO_NOT_DISTURB")  # Alan's
        await pbx.events_sent()
        callers = ["5551234", "5559876", "+4930123456", "5550000"]  # the last one is unknown
        calls = {caller: await r.dial("8000", caller) for caller in callers}
        await pbx.events_sent()
        async with httpx.AsyncClient(base_url=crm.state.url) as http:

            async def noted() -> bool:
                got = [await http.get(f"/calls/{c.fields['session_id']}") for c in calls.values()]
                return all(g.status_code == 200 for g in got)

            await until(noted)
            notes = {
                caller: (await http.get(f"/calls/{c.fields['session_id']}")).json()
                for caller, c in calls.items()
            }
        found = await quiet(r.url)
    assert {caller: c.destination for caller, c in calls.items()} == {
        "5551234": "2001",
        "5559876": QUEUE,
        "+4930123456": QUEUE,
        "5550000": QUEUE,
    }
    # Whole seconds of the fake's clock: 0 or 1, as the call straddles a second or not.
    assert notes["5551234"].pop("talk_seconds") in (0.0, 1.0)
    assert notes["5551234"] == {
        "route": "to_the_manager",
        "action": "call",
        "sent_to": "2001",
        "fallback": None,
        "answered": True,
        "call_status": "answered",
        "ended_reason": "callee_disconnected",
    }
    assert {n["sent_to"] for c, n in notes.items() if c != "5551234"} == {QUEUE}
    assert all(n["answered"] for n in notes.values())
    # Written at least twice each (the first answer lost, then retried), kept once each.
    print(f"\n{crm.state.notes} notes written for {len(calls)} calls")
    assert crm.state.notes >= 2 * len(calls)
    with contextlib.closing(sqlite3.connect(tmp_path / "crm.sqlite3")) as db:
        rows = db.execute("SELECT session_id, note FROM calls").fetchall()
    assert sorted(s for s, _ in rows) == sorted(str(c.fields["session_id"]) for c in calls.values())
    assert all(json.loads(note)["route"] == "to_the_manager" for _, note in rows)
    assert found["retried"] >= len(calls) and found["dead"] == 0
