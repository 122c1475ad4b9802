"""The registration service against a hostile PBX (tests/pbx/hostile.py) over loopback: what the
PBX writes never carries the client's token into the log or ``/readyz``, and a PBX slow enough
to keep a pass going for ever is cut at the pass's budget."""

from __future__ import annotations

import logging
from collections.abc import Callable

import httpx
import pytest

from ivrhooks import AuthConfig, IVRHooks, PBXConfig, RegistrationConfig
from ivrhooks.registration import Registration
from ivrhooks.testing import serve
from tests.pbx.hostile import HostilePBX, answer
from tests.registration.helpers import APP_ID, SECRET, add_menu, served_app


def hostile_app(pbx: HostilePBX, base: str, service: Registration) -> Callable[[str], IVRHooks]:
    def build(public_url: str) -> IVRHooks:
        app = IVRHooks(
            receptionists=["8000"],
            pbx=PBXConfig(base + "/api", username=pbx.username, password=pbx.password),
            auth=AuthConfig(secret=SECRET),
            registration=RegistrationConfig(public_url=public_url, app_id=APP_ID),
            env=False,
        )
        add_menu(app)
        app.services.append(service)
        return app

    return build


async def test_a_token_the_pbx_echoes_reaches_neither_the_log_nor_readyz(
    caplog: pytest.LogCaptureFixture,
) -> None:
    pbx = HostilePBX()
    # What a proxy in front of the PBX may do with a request it rejects: quote it back.
    echo = (
        f"rejected GET /api/ivrs with Authorization: Bearer {pbx.token} "
        f"(refresh {pbx.refresh}) \x1b[2J\x1b[H\rregistration ok"
    )
    body = {"errors": [{"code": "UNKNOWN", "message": echo, "detail": {"seen": pbx.token}}]}
    pbx.on("GET", "ivrs", answer(body, 500))
    caplog.set_level(logging.INFO, logger="ivrhooks")
    service = Registration(backoff_base=0.05, backoff_cap=0.1)
    async with serve(pbx.app) as base:
        build = hostile_app(pbx, base, service)
        async with served_app(build=build) as (_, url), httpx.AsyncClient(base_url=url) as http:
            await service.wait_for(failures=1)
            readyz = await http.get("/readyz")
    reason = readyz.json()["reason"]
    failed = [r.getMessage() for r in caplog.records if "registration failed" in r.getMessage()]
    print(f"\n/readyz: {reason}\nlog: {failed[0]}")
    assert readyz.status_code == 503 and failed
    assert "GET ivrs -> 500 UNKNOWN: rejected GET /api/ivrs" in reason
    assert "Bearer [redacted] (refresh [redacted])" in reason
    # The log line says what /readyz says (a later failure may have replaced the first).
    assert any(reason.removeprefix("registration failed: ") in line for line in failed)
    assert "\\x1b[2J\\x1b[H\\x0dregistration ok" in reason
    for secret in (pbx.token, pbx.refresh, pbx.password):
        assert secret not in caplog.text and secret not in readyz.text
    assert "\x1b" not in caplog.text and not any("\r" in line for line in failed)


async def test_a_pass_that_outlives_its_budget_is_stopped_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    pbx = HostilePBX()
    # A byte every 50 ms: no read ever times out, and the request's own deadline is 30 s.
    pbx.on("GET", "ivrs", pbx.drip(every=0.05))
    service = Registration(pass_budget=1.0, backoff_base=5.0, backoff_cap=5.0)
    async with serve(pbx.app) as base:
        build = hostile_app(pbx, base, service)
        async with served_app(build=build) as (_, url), httpx.AsyncClient(base_url=url) as http:
            await service.wait_for(failures=1)
            readyz = await http.get("/readyz")
    reason = readyz.json()["reason"]
    print(f"\n/readyz: {reason}; {pbx.streamed} bytes dripped")
    assert readyz.status_code == 503
    assert readyz.json()["state"] == "failed"
    assert "the registration pass did not finish within its budget of 1 s" in reason
    assert "(Registration(pass_budget=...))" in reason
