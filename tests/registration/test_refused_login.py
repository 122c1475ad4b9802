"""A refused PBX login: registration waits minutes, says why in ``/readyz`` and the log, and the
whole deployment stays within a budget of refused logins (PortSIP blocks an address after
repeated failed logins, reference/portsip.md §5). Logins are counted where they arrive: at the
fake PBX, served on loopback behind a counter; the shared budget lives in a real redis-server."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from ivrhooks import IVRHooks, StoreConfig
from ivrhooks.errors import PBXLoginBudgetError, PBXLoginRefusedError
from ivrhooks.registration import Registration
from ivrhooks.registration.logins import RefusedLogins
from ivrhooks.testing import FakePBX, serve
from tests.pbx.test_refused_login import LoginCounter
from tests.redis_server import RedisServer
from tests.registration.helpers import add_menu, new_app, served_app

WRONG = "not-the-pbx-password-0123"


@pytest.fixture
async def counted(fake: FakePBX) -> AsyncIterator[tuple[LoginCounter, str]]:
    counter = LoginCounter(fake.app)
    async with serve(counter) as base:
        yield counter, base


def refused_app(
    pbx_base: str, fake: FakePBX, service: Registration, **options: Any
) -> Callable[[str], IVRHooks]:
    """An app whose PBX login comes from the environment, with a password the PBX refuses."""
    env = {
        "IVRHOOKS_PBX_URL": pbx_base + "/api",
        "IVRHOOKS_PBX_USERNAME": fake.username,
        "IVRHOOKS_PBX_PASSWORD": WRONG,
    }

    def build(public_url: str) -> IVRHooks:
        app = new_app(None, None, public_url=public_url, env=env, **options)
        add_menu(app)
        app.services.append(service)
        return app

    return build


async def test_a_refused_login_waits_minutes_and_readyz_says_why(
    fake: FakePBX, counted: tuple[LoginCounter, str], caplog: pytest.LogCaptureFixture
) -> None:
    counter, pbx_base = counted
    caplog.set_level(logging.WARNING, logger="ivrhooks.registration")
    # The ordinary retry would come back within 20 ms; a refused login must not.
    service = Registration(backoff_base=0.01, backoff_cap=0.02)
    build = refused_app(pbx_base, fake, service)
    async with served_app(build=build) as (_, url), httpx.AsyncClient(base_url=url) as http:
        await service.wait_for(failures=1)
        readyz = await http.get("/readyz")
    body = readyz.json()
    print(f"\n/readyz: {body}")
    assert readyz.status_code == 503 and body["state"] == "failed"
    reason = body["reason"]
    assert "refused the login (IVRHOOKS_PBX_USERNAME / IVRHOOKS_PBX_PASSWORD)" in reason
    assert "with status 401; check the username, password and domain" in reason
    assert re.search(r"; next attempt in 10 min \(at \d\d:\d\d:\d\d UTC\)$", reason), reason
    logged = [r.getMessage() for r in caplog.records if "registration failed" in r.getMessage()]
    assert logged == [f"registration failed (attempt 1): {reason.split(': ', 1)[1]}"]
    assert counter.logins == 1 and service.refused.count == 1
    assert WRONG not in caplog.text and WRONG not in readyz.text


async def test_replicas_sharing_redis_stay_within_the_refused_login_budget(
    fake: FakePBX, counted: tuple[LoginCounter, str], redis_server: RedisServer
) -> None:
    counter, pbx_base = counted
    store = StoreConfig(redis_url=redis_server.url)
    # Two apps on one PBX (each its own registrar), a short wait after a refusal: without the
    # shared budget they would log in over and over.
    services = [
        Registration(login_backoff=0.02, login_backoff_cap=0.02, login_budget=3) for _ in range(2)
    ]
    async with (
        served_app(build=refused_app(pbx_base, fake, services[0], app_id="one", store=store)),
        served_app(build=refused_app(pbx_base, fake, services[1], app_id="two", store=store)),
    ):
        await _until(lambda: all("no login tried" in (s.last_error or "") for s in services))
    failures = [s.failures for s in services]
    print(f"\n{counter.logins} logins at the PBX; failures per app {failures}")
    print(services[0].last_error)
    assert counter.logins == 3
    for service in services:
        assert "no login tried: 3 logins to this PBX were refused in the last 15 min" in (
            service.last_error or ""
        )
        assert re.search(r"domain; next attempt in 1\d min \(at ", service.last_error or "")


async def test_alone_the_budget_is_kept_in_memory(
    fake: FakePBX, counted: tuple[LoginCounter, str]
) -> None:
    counter, pbx_base = counted
    service = Registration(login_backoff=0.02, login_backoff_cap=0.02, login_budget=2)
    async with served_app(build=refused_app(pbx_base, fake, service)):
        await _until(lambda: "no login tried" in (service.last_error or ""))
    assert counter.logins == 2


def test_the_wait_after_refusals_doubles_to_its_cap_and_respects_the_budget() -> None:
    class Tokens:
        refusal: PBXLoginRefusedError | None = None

    refused = RefusedLogins(base=600.0, cap=3600.0)
    tokens: Any = Tokens()
    assert refused.wait_after(OSError("reset"), tokens) is None  # not a login: ordinary backoff
    waits = [refused.wait_after(PBXLoginRefusedError("no"), tokens) for _ in range(5)]
    assert waits == [600.0, 1200.0, 2400.0, 3600.0, 3600.0]
    refused.reset()
    spent = PBXLoginBudgetError("spent", retry_in=850.0)
    assert refused.wait_after(spent, tokens) == 850.0  # not before the budget frees a slot
    # A refusal inside another error (a write's) is known by the token manager.
    tokens.refusal = PBXLoginRefusedError("no")
    assert refused.wait_after(OSError("wrapped"), tokens) == 1200.0


async def _until(check: Callable[[], bool], limit: float = 20.0) -> None:
    # A bounded poll on state the apps' registration loops change.
    deadline = asyncio.get_running_loop().time() + limit
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached"
        await asyncio.sleep(0.02)
