"""The CRM example end to end: the app, the CRM service and HTTP between them, for real."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from crm_service import create_app as create_crm

from ivrhooks.cli.loader import load_app
from ivrhooks.testing import local, serve
from tests.ports import refused_port

EXAMPLE = str(Path(__file__).parents[2] / "examples" / "crm_lookup.py")
PBX_TIMEOUT = 2.0  # seconds the PBX waits for a decision (request_timeout)


async def dial(app_url: str, app: object, caller: str) -> tuple[dict[str, object], float]:
    route = app.routes[0]  # type: ignore[attr-defined]
    creds = app.credentials_for(route)  # type: ignore[attr-defined]
    async with httpx.AsyncClient(auth=(creds.username, creds.password)) as client:
        started = time.perf_counter()
        r = await client.post(
            app_url + app.path_of(route),  # type: ignore[attr-defined]
            json={"from": caller, "to": "8000", "input": "", "session_id": "1"},
        )
        return r.json(), time.perf_counter() - started


@pytest.fixture
async def crm_url(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[str]:
    delay = getattr(request, "param", 0.0)
    async with serve(create_crm(tmp_path / "crm.sqlite3", delay=delay)) as url:
        yield url


async def test_known_caller_goes_to_their_manager(
    crm_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRM_URL", crm_url)
    app = load_app(EXAMPLE)
    async with serve(app) as url:
        decision, _ = await dial(url, app, "5551234")
        plus, _ = await dial(url, app, "+4930123456")
    assert decision == {"status_code": 200, "action": "call", "destination": "2001"}
    assert plus["destination"] == "2003"


async def test_unknown_caller_goes_to_the_operator(
    crm_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRM_URL", crm_url)
    app = load_app(EXAMPLE)
    async with serve(app) as url:
        decision, _ = await dial(url, app, "5550000")
    assert decision["destination"] == "0"


@pytest.mark.parametrize("crm_url", [5.0], indirect=True, ids=["crm-sleeps-5s"])
async def test_slow_crm_answers_the_operator_within_the_deadline(
    crm_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRM_URL", crm_url)
    # A short budget: the lookup gives up 0.15 s before it, far below the PBX's timeout.
    monkeypatch.setenv("IVRHOOKS_DEADLINE", "0.5")
    app = load_app(EXAMPLE)
    async with serve(app) as url:
        decision, elapsed = await dial(url, app, "5559876")
    print(f"\nslow CRM: the operator after {elapsed:.3f} s (budget 0.5 s)")
    assert decision["destination"] == "0"
    # Before the PBX gives up (its 2 s request timeout), not after the CRM's 5 s.
    assert elapsed < PBX_TIMEOUT, f"answered after {elapsed:.3f}s"


async def test_crm_down_answers_the_operator_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    with refused_port() as port:  # nothing listens there: connection refused
        monkeypatch.setenv("CRM_URL", f"http://127.0.0.1:{port}")
        app = load_app(EXAMPLE)
        async with serve(app) as url:
            decision, elapsed = await dial(url, app, "5551234")
    print(f"\nCRM down: the operator after {elapsed * 1000:.1f} ms")
    assert decision["destination"] == "0"
    # A refused connection is known in milliseconds; waiting out the lookup's timeout would
    # take 1.35 s (the 1.5 s budget less the example's margin).
    assert elapsed < 1.0


class FakeCRM:
    """Stands in for the CRM client resource: counts lookups, may be slow."""

    def __init__(self, managers: dict[str, str], delay: float = 0.0) -> None:
        self.managers = managers
        self.delay = delay
        self.lookups = 0

    async def manager_for(self, phone: str) -> str | None:
        self.lookups += 1
        await asyncio.sleep(self.delay)
        return self.managers.get(phone)


async def test_in_process_the_cache_asks_the_crm_once_per_caller() -> None:
    app = load_app(EXAMPLE)
    fake = FakeCRM({"5551234": "2001"})
    async with local(app, resources={"crm": fake}) as ivr:
        known = [await ivr.dial(to="8000", caller="5551234") for _ in range(3)]
        unknown = [await ivr.dial(to="8000", caller="5550000") for _ in range(2)]
    assert [r.destination for r in known] == ["2001"] * 3
    assert [r.destination for r in unknown] == ["0"] * 2
    assert fake.lookups == 2, "one lookup per caller: hits and a cached miss after"


async def test_in_process_a_slow_crm_is_given_up_by_the_handler_itself() -> None:
    app = load_app(EXAMPLE)
    fake = FakeCRM({"5551234": "2001"}, delay=5.0)
    async with local(app, resources={"crm": fake}, environ={"IVRHOOKS_DEADLINE": "0.5"}) as ivr:
        r = await ivr.dial(to="8000", caller="5551234")
    assert (r.destination, r.answered_by, r.cause) == ("0", "route", None)
