"""A refused login is sent once: PortSIP blocks an address after repeated failed logins
(reference/portsip.md §5), so neither the retry policy nor the requests queued behind the
login may send the same credentials again. Logins are counted where they arrive: at the PBX."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from ivrhooks import PBXConfig
from ivrhooks.errors import PBXLoginError, PBXLoginRefusedError
from ivrhooks.pbx import RetryPolicy
from ivrhooks.registration.job import pbx_client
from ivrhooks.testing import FakePBX, serve
from tests.pbx.hostile import HostilePBX, error

LOGINS = ("/api/auth/sign_in", "/api/login/oauth/token", "/api/login")


class LoginCounter:
    """An ASGI app in front of ``app`` counting the login requests that reach it."""

    def __init__(self, app: object) -> None:
        self.app = app
        self.logins = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"] in LOGINS:
            self.logins += 1
        await self.app(scope, receive, send)  # type: ignore[operator]


@pytest.fixture
async def counted() -> AsyncIterator[tuple[FakePBX, LoginCounter, str]]:
    fake = FakePBX()
    fake.add_ivr("8000", "Main")
    counter = LoginCounter(fake.app)
    async with serve(counter) as base:
        yield fake, counter, base + "/api"


async def test_requests_waiting_for_a_refused_login_do_not_send_it_again(
    counted: tuple[FakePBX, LoginCounter, str],
) -> None:
    fake, counter, base = counted
    config = PBXConfig(base, username=fake.username, password="not-the-password-123")
    async with pbx_client(config) as pbx:
        # A registration pass reads several receptionists at once: all wait for one login.
        ivr = fake.ivr("8000").id
        tries = [pbx.action_urls.list(ivr) for _ in range(8)]
        outcomes = await asyncio.gather(*tries, return_exceptions=True)
    print(f"\n8 requests, {counter.logins} login(s) at the PBX")
    assert all(isinstance(o, PBXLoginRefusedError) for o in outcomes), outcomes
    assert counter.logins == 1
    assert pbx.tokens.refusal is not None

    # A later request is a new attempt: the refusal is not remembered for ever.
    async with pbx_client(config) as again:
        with pytest.raises(PBXLoginRefusedError):
            await again.tokens.token()
        with pytest.raises(PBXLoginRefusedError):
            await again.tokens.token()
    assert counter.logins == 3


@pytest.mark.parametrize(
    ("status", "refused", "sent"),
    [
        pytest.param(401, True, 1, id="401"),
        pytest.param(403, True, 1, id="403"),
        pytest.param(400, True, 1, id="400"),
        pytest.param(429, False, 2, id="429-rate-limited"),
        pytest.param(503, False, 2, id="503-unavailable"),
    ],
)
async def test_only_a_verdict_on_the_credentials_is_a_refusal(
    status: int, refused: bool, sent: int
) -> None:
    pbx = HostilePBX()

    async def answer(request: Request) -> Response:
        return error(status, "no")

    pbx.on("POST", "auth/sign_in", answer)
    async with serve(pbx.app) as base:
        config = PBXConfig(base + "/api", username=pbx.username, password=pbx.password)
        retry = RetryPolicy(max_attempts=2, base=0.001, max_retry_after=0.01)
        async with pbx_client(config, retry=retry) as client:
            with pytest.raises(PBXLoginError) as info:
                await client.tokens.token()
    assert isinstance(info.value, PBXLoginRefusedError) is refused
    assert info.value.status == status
    # A refusal is sent once; "slow down" and "unavailable" are retried as any request is.
    assert pbx.count("POST auth/sign_in") == sent
    if refused:
        assert "check the username, password and domain" in str(info.value)
