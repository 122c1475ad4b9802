"""The token lifecycle (PortSIP REST §4) against the fake PBX over loopback HTTP."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import pytest

from ivrhooks.pbx import PBXClient, PBXLoginError, PBXUnauthorizedError, TwoFactorRequiredError
from ivrhooks.pbx.tokens import Generation
from ivrhooks.testing import FakePBX, serve


class Clock:
    """A hand-moved clock shared by the client and the fake PBX (no sleeping in tests)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def fake(clock: Clock) -> FakePBX:
    return FakePBX(token_ttl=1800, clock=clock)


@pytest.fixture
async def pbx(fake: FakePBX, base_url: str, clock: Clock) -> AsyncIterator[PBXClient]:
    async with PBXClient(
        base_url, username=fake.username, password=fake.password, clock=clock
    ) as client:
        yield client


async def test_signs_in_once_for_many_requests(pbx: PBXClient, fake: FakePBX) -> None:
    for _ in range(3):
        [s async for s in pbx.ivrs.list()]
    assert pbx.tokens.generation is Generation.SIGN_IN
    assert (fake.tokens.logins, fake.counters.calls) == (1, 3)


async def test_refreshes_before_expiry(pbx: PBXClient, fake: FakePBX, clock: Clock) -> None:
    [s async for s in pbx.ivrs.list()]
    clock.now += 1800 - 59  # inside the refresh margin, token still valid on the PBX
    [s async for s in pbx.ivrs.list()]
    assert (fake.tokens.logins, fake.tokens.refreshes) == (1, 1)
    clock.now += 1800 - 59
    [s async for s in pbx.ivrs.list()]
    assert (fake.tokens.logins, fake.tokens.refreshes) == (1, 2)


async def test_failed_refresh_logs_in_again(pbx: PBXClient, fake: FakePBX, clock: Clock) -> None:
    [s async for s in pbx.ivrs.list()]
    fake.tokens.revoke_refresh_tokens()
    clock.now += 1800 - 30
    [s async for s in pbx.ivrs.list()]
    assert (fake.tokens.logins, fake.tokens.refreshes) == (2, 0)


async def test_expired_token_gets_a_401_then_one_fresh_login(pbx: PBXClient, fake: FakePBX) -> None:
    ivr_id = fake.add_ivr("8000", "Main")
    await pbx.ivrs.get(ivr_id)
    fake.expire_tokens()
    assert (await pbx.ivrs.get(ivr_id)).extension_number == "8000"
    assert fake.tokens.logins == 2


async def test_concurrent_requests_share_one_login(pbx: PBXClient, fake: FakePBX) -> None:
    ivr_id = fake.add_ivr("8000", "Main")
    await asyncio.gather(*(pbx.ivrs.get(ivr_id) for _ in range(20)))
    assert fake.tokens.logins == 1
    fake.expire_tokens()  # all twenty get a 401 at once: still one login between them
    await asyncio.gather(*(pbx.ivrs.get(ivr_id) for _ in range(20)))
    assert fake.tokens.logins == 2


async def test_static_token_skips_login(fake: FakePBX, base_url: str) -> None:
    token = fake.tokens.issue()["access_token"]
    async with PBXClient(base_url, token=token) as pbx:
        assert [s.type async for s in pbx.ivr_servers.list()] != []
        fake.expire_tokens()
        with pytest.raises(PBXUnauthorizedError) as info:
            [s async for s in pbx.ivr_servers.list()]
    assert fake.tokens.logins == 0
    assert info.value.code == "UNAUTHORIZED"
    assert token not in str(info.value)


async def test_falls_back_to_oauth_on_an_older_pbx(clock: Clock) -> None:
    fake = FakePBX(sign_in_supported=False, token_ttl=1800, clock=clock)
    async with (
        serve(fake.app) as url,
        PBXClient(url + "/api", username="admin", password="fakepbx", clock=clock) as pbx,
    ):
        ivr_id = await pbx.ivrs.create(name="Main", extension_number="8000", pin="582046")
        assert pbx.tokens.generation is Generation.OAUTH
        clock.now += 1800 - 10
        assert (await pbx.ivrs.get(ivr_id)).name == "Main"  # refreshed with grant_type
        fake.expire_tokens()
        assert (await pbx.ivrs.get(ivr_id)).name == "Main"  # re-login stays on OAuth
    assert (fake.tokens.logins, fake.tokens.refreshes) == (2, 1)


async def test_two_factor_account_is_refused_with_advice() -> None:
    fake = FakePBX(two_factor=True)
    async with serve(fake.app) as url:
        pbx = PBXClient(url + "/api", username="admin", password="fakepbx")
        async with pbx:
            with pytest.raises(TwoFactorRequiredError, match="without two-factor login"):
                [s async for s in pbx.ivrs.list()]
    assert fake.counters.calls == 0


async def test_wrong_password_is_a_login_error(fake: FakePBX, base_url: str) -> None:
    async with PBXClient(base_url, username="admin", password="wrong-one") as pbx:
        with pytest.raises(PBXLoginError) as info:
            await pbx.ivrs.status("x")
    assert info.value.status == 401
    assert "wrong-one" not in str(info.value)
    assert "check the username, password and domain" in str(info.value)


def test_a_login_is_required() -> None:
    with pytest.raises(ValueError, match="username and password"):
        PBXClient("http://127.0.0.1:1/api", username="admin")


async def test_secrets_never_reach_the_logs(
    pbx: PBXClient, fake: FakePBX, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    ivr_id = fake.add_ivr("8000", "Main")
    await pbx.ivrs.get(ivr_id)
    clock.now += 1800 - 30
    await pbx.ivrs.get(ivr_id)  # refresh
    fake.expire_tokens()
    await pbx.ivrs.get(ivr_id)  # 401, re-login
    issued = [t for t in fake.tokens._access]
    assert len(issued) == 3
    assert caplog.records  # the flow did log something ...
    for secret in [fake.password, *issued]:
        assert secret not in caplog.text  # ... but never a password or token
    assert fake.password not in repr(pbx)
