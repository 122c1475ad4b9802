"""Replay on the examples: a multi-step call keeps its session (examples/account_pin.py), and a
business-hours handler sees the time each request was captured (examples/business_hours.py)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from crm_service import create_app

from ivrhooks.cli.loader import load_app
from ivrhooks.testing import replay, running, serve
from tests.capture.processes import ROOT, cli

ACCOUNT_PIN = str(ROOT / "examples" / "account_pin.py")
BUSINESS_HOURS = str(ROOT / "examples" / "business_hours.py")


@pytest.fixture
async def crm_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[str]:
    async with serve(create_app(tmp_path / "crm.sqlite3")) as url:
        monkeypatch.setenv("CRM_URL", url)
        yield url


async def test_the_steps_of_a_call_replay_in_order_under_its_session(
    tmp_path: Path, crm_url: str
) -> None:
    capture = tmp_path / "calls.jsonl"
    # Two calls, their steps interleaved: the right PIN at the second try, and three wrong.
    steps = [
        ("8000", "31234", "A", "8001"),
        ("8000", "31234", "B", "8001"),
        ("8001", "1111", "A", "repeat"),
        ("8001", "1111", "B", "repeat"),
        ("8001", "2468", "A", "2001"),
        ("8001", "2222", "B", "repeat"),
        ("8001", "3333", "B", "0"),  # the third wrong PIN: the operator
    ]
    sessions = {"A": "7000000001", "B": "7000000002"}
    async with running(load_app(ACCOUNT_PIN), environ={"IVRHOOKS_CAPTURE": str(capture)}) as run:
        for to, digits, call, expected in steps:
            hop = await run.pbx.dial(to=to, caller="101", digits=digits, session_id=sessions[call])
            assert (hop.destination or hop.action) == expected
    captured = [
        json.loads(line)["fields"]["session_id"] for line in capture.read_text().splitlines()
    ]
    assert captured == [sessions[step[2]] for step in steps]
    # The PIN steps find the account in the session the first step wrote: the right PIN
    # reaches the manager, the third wrong one the operator, as captured.
    assert await replay(load_app(ACCOUNT_PIN), capture) == []


def _captured(when: str, digits: str, destination: str, session: str) -> str:
    record = {
        "v": 1,
        "time": when,
        "method": "POST",
        "receptionist": "8000",
        "kind": "DTMF",
        "route": "sales" if digits == "1" else "support",
        "fields": {"from": "1***1", "to": "8000", "input": digits, "session_id": session},
        "masked": ["from"],
        "action": "call",
        "destination": destination,
        "answered_by": "route",
        "fallback_cause": None,
        "latency_ms": 0.4,
    }
    return json.dumps(record) + "\n"


@pytest.fixture
def office_day(tmp_path: Path) -> Path:
    """Sales by day and by night, support in summer time: what examples/business_hours.py
    answered at those times."""
    capture = tmp_path / "office.jsonl"
    capture.write_text(
        _captured("2026-11-26T10:00:00.000000+00:00", "1", "2001", "100001")  # Thu 11:00 Berlin
        + _captured("2026-11-26T16:30:00.000000+00:00", "1", "2901", "100002")  # 17:30: closed
        + _captured("2026-07-01T07:30:00.000000+00:00", "2", "2002", "100003")  # 09:30 CEST
    )
    return capture


async def test_a_business_hours_handler_replays_at_the_time_it_was_captured(
    office_day: Path,
) -> None:
    app = load_app(BUSINESS_HOURS)
    import business_hours  # loaded by load_app from the examples directory

    real = business_hours.clock
    assert await replay(app, office_day, clock="business_hours:clock") == []
    assert business_hours.clock is real, "the clock is put back"
    # Unpinned, every request reads the same (real) time: day and night cannot both agree.
    unpinned = await replay(app, office_day)
    assert len([d for d in unpinned if d.digits == "1"]) == 1


def test_ivrhooks_replay_pins_the_clock_named_in_the_apps_module(office_day: Path) -> None:
    done = cli("replay", str(office_day), BUSINESS_HOURS, "--clock", "clock")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines()[-1].startswith("3 requests: 3 same, 0 changed")
