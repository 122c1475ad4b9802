"""The three login generations (PortSIP REST §4) against the fake PBX over loopback HTTP.

``POST /auth/sign_in`` (v22.2+), ``POST /login/oauth/token`` (v22.0/22.1) and ``POST /login``
(every published OpenAPI document): the client tries them in that order, falls back on
404/405, remembers the one that answered, and says which it was.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from ivrhooks.errors import InvalidArgumentError
from ivrhooks.pbx import PBXClient, PBXLoginError, TwoFactorRequiredError
from ivrhooks.pbx.generations import Generation, login_request
from ivrhooks.testing import FakePBX, serve


class Clock:
    """A hand-moved clock shared by the client and the fake PBX (no sleeping in tests)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Recorder(httpx.AsyncHTTPTransport):
    """Real HTTP, with the method and path of every request kept in order."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(f"{request.method} {request.url.path}")
        return await super().handle_async_request(request)


LOGINS = {
    Generation.SIGN_IN: "POST /api/auth/sign_in",
    Generation.OAUTH: "POST /api/login/oauth/token",
    Generation.LOGIN: "POST /api/login",
}


@pytest.mark.parametrize("generation", list(Generation), ids=lambda g: g.key)
async def test_logs_in_through_each_generation_alone(
    generation: Generation, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="ivrhooks.pbx")
    fake = FakePBX(login_generations=[generation])
    recorder = Recorder()
    async with (
        serve(fake.app) as url,
        PBXClient(
            url + "/api", username=fake.username, password=fake.password, transport=recorder
        ) as pbx,
    ):
        assert [s.type async for s in pbx.ivr_servers.list()] != []
        assert pbx.tokens.generation is generation
        assert pbx.tokens.expires_in == 3600
    # Tried in order up to the one that answered, then the request itself.
    order = list(LOGINS.values())
    assert recorder.sent == [*order[: order.index(LOGINS[generation]) + 1], "GET /api/ivr_servers"]
    assert f"logged in to the PBX with {generation.label}" in caplog.text
    assert fake.tokens.logins == 1


async def test_the_newest_generation_wins_when_all_are_served() -> None:
    fake = FakePBX()  # serves all three, as the newest PBX does
    async with (
        serve(fake.app) as url,
        PBXClient(url + "/api", username=fake.username, password=fake.password) as pbx,
    ):
        await pbx.ivrs.status(fake.add_ivr("8000", "Main"))
        assert pbx.tokens.generation is Generation.SIGN_IN


async def test_the_generation_that_answered_is_remembered() -> None:
    clock = Clock()
    fake = FakePBX(login_generations=["login"], token_ttl=1800, clock=clock)
    recorder = Recorder()
    async with (
        serve(fake.app) as url,
        PBXClient(
            url + "/api",
            username=fake.username,
            password=fake.password,
            transport=recorder,
            clock=clock,
        ) as pbx,
    ):
        ivr_id = fake.add_ivr("8000", "Main")
        await pbx.ivrs.get(ivr_id)
        recorder.sent.clear()
        fake.expire_tokens()  # a 401: log in again, straight to POST /login
        await pbx.ivrs.get(ivr_id)
        assert recorder.sent == [f"GET /api/ivrs/{ivr_id}", "POST /api/login", *recorder.sent[2:]]
        assert recorder.sent.count("POST /api/login") == 1
        recorder.sent.clear()
        # POST /login has no refresh endpoint: near expiry the client logs in again.
        clock.now += 1800 - 30
        await pbx.ivrs.get(ivr_id)
        assert recorder.sent == ["POST /api/login", f"GET /api/ivrs/{ivr_id}"]
    assert (fake.tokens.logins, fake.tokens.refreshes) == (3, 0)


async def test_oauth_tokens_refresh_with_their_own_grant() -> None:
    clock = Clock()
    fake = FakePBX(login_generations=["oauth"], token_ttl=1800, clock=clock)
    async with (
        serve(fake.app) as url,
        PBXClient(url + "/api", username="admin", password="fakepbx", clock=clock) as pbx,
    ):
        ivr_id = fake.add_ivr("8000", "Main")
        await pbx.ivrs.get(ivr_id)
        clock.now += 1800 - 10
        await pbx.ivrs.get(ivr_id)
    assert (fake.tokens.logins, fake.tokens.refreshes) == (1, 1)


@pytest.mark.parametrize("generation", list(Generation), ids=lambda g: g.key)
async def test_two_factor_is_refused_on_every_generation(generation: Generation) -> None:
    fake = FakePBX(login_generations=[generation], two_factor=True)
    async with (
        serve(fake.app) as url,
        PBXClient(url + "/api", username="admin", password="fakepbx") as pbx,
    ):
        with pytest.raises(TwoFactorRequiredError, match="two-factor"):
            await pbx.ivrs.status("x")
    assert fake.counters.calls == 0


# --- POST /login's reply is not documented: the shapes the client reads -------------------


def _rfc3339(seconds: float, *, zone: str = "Z") -> str:
    moment = datetime.now(UTC) + timedelta(seconds=seconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + zone


TOKEN = "tok-0123456789"

# (reply body, made when the test runs so times are fresh; the lifetime the client should
# read, or None for "not given")
REPLIES: list[Any] = [
    pytest.param(lambda: {"access_token": TOKEN, "expires_in": 1800}, 1800, id="expires_in"),
    pytest.param(
        lambda: {"access_token": TOKEN, "expires_in": "3600"}, 3600, id="expires_in-as-text"
    ),
    pytest.param(
        lambda: {"access_token": TOKEN, "expires_at": _rfc3339(1800)}, 1800, id="expires_at"
    ),
    pytest.param(
        lambda: {"access_token": TOKEN, "expires_at": _rfc3339(600, zone="+00:00")},
        600,
        id="offset",
    ),
    pytest.param(
        lambda: {"access_token": TOKEN, "expires_at": _rfc3339(900, zone="")},
        900,
        id="no-zone-is-utc",
    ),
    pytest.param(
        lambda: {"access_token": TOKEN, "expires_in": 1200, "expires_at": _rfc3339(99999)},
        1200,
        id="expires_in-wins",
    ),
    pytest.param(
        lambda: {"access_token": TOKEN, "expires_at": _rfc3339(-60)},
        None,
        id="expires_at-in-the-past",
    ),
    pytest.param(
        lambda: {"access_token": TOKEN, "expires_at": "soon"}, None, id="expires_at-unreadable"
    ),
    pytest.param(lambda: {"access_token": TOKEN}, None, id="no-lifetime"),
    pytest.param(
        lambda: {"access_token": TOKEN, "expires_in": 1800, "role": "Admin", "refresh_token": "r"},
        1800,
        id="with-role-and-refresh-token",
    ),
    pytest.param(lambda: {"access_token": TOKEN, "expires_in": None}, None, id="null-lifetime"),
]


def _only_post_login(reply: Any, status: int = 200) -> Starlette:
    """A PBX that has only ``POST /login``, answering ``reply``; ``GET /ivrs`` wants its token."""

    async def login(request: Request) -> Response:
        if isinstance(reply, str):
            return PlainTextResponse(reply, status_code=status)
        return JSONResponse(reply, status_code=status)

    async def ivrs(request: Request) -> Response:
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return JSONResponse({"errors": [{"code": "UNAUTHORIZED", "message": "no"}]}, 401)
        return JSONResponse({"count": 0, "items": []})

    return Starlette(
        routes=[
            Route("/api/login", login, methods=["POST"]),
            Route("/api/ivrs", ivrs, methods=["GET"]),
        ]
    )


@pytest.fixture
async def login_only() -> AsyncIterator[Any]:
    """Serve a ``POST /login``-only PBX answering a given reply; yields a client factory."""
    async with contextlib.AsyncExitStack() as stack:

        async def client_for(reply: Any, status: int = 200) -> PBXClient:
            url = await stack.enter_async_context(serve(_only_post_login(reply, status)))
            return await stack.enter_async_context(
                PBXClient(url + "/api", username="admin", password="fakepbx")
            )

        yield client_for


@pytest.mark.parametrize(("reply", "lifetime"), REPLIES)
async def test_post_login_replies_are_read_defensively(
    login_only: Any, reply: Callable[[], dict[str, Any]], lifetime: int | None
) -> None:
    pbx = await login_only(reply())
    assert [i async for i in pbx.ivrs.list()] == []
    assert pbx.tokens.generation is Generation.LOGIN
    if lifetime is None:
        assert pbx.tokens.expires_in is None
    else:
        assert pbx.tokens.expires_in is not None
        assert abs(pbx.tokens.expires_in - lifetime) <= 2


@pytest.mark.parametrize(
    ("reply", "status", "error", "match"),
    [
        pytest.param({}, 200, PBXLoginError, "no access_token", id="no-token"),
        pytest.param("welcome", 200, PBXLoginError, "without a token body", id="not-json"),
        pytest.param([TOKEN], 200, PBXLoginError, "without a token body", id="a-list"),
        pytest.param(
            {"two_factor_enabled": True, "token": "s"}, 200, TwoFactorRequiredError, "two-factor"
        ),
        pytest.param({"errors": []}, 401, PBXLoginError, "status 401", id="refused"),
    ],
)
async def test_post_login_replies_without_a_token_fail_clearly(
    login_only: Any, reply: Any, status: int, error: type[Exception], match: str
) -> None:
    pbx = await login_only(reply, status)
    with pytest.raises(error, match=match) as info:
        [i async for i in pbx.ivrs.list()]
    assert "fakepbx" not in str(info.value)  # never the password


async def test_a_pbx_with_no_login_endpoint_says_to_check_the_url() -> None:
    fake = FakePBX()
    async with (
        serve(fake.app) as url,
        # The base URL without /api: every login path is a 404.
        PBXClient(url, username="admin", password="fakepbx") as pbx,
    ):
        with pytest.raises(PBXLoginError, match="ends in /api") as info:
            await pbx.ivrs.status("x")
    assert info.value.status == 404
    for generation in Generation:
        assert generation.label in str(info.value)


@pytest.mark.parametrize(
    ("login", "field"),
    [
        pytest.param({"username": "u" * 65, "password": "secret-pw"}, "username", id="username"),
        pytest.param(
            {"username": "admin", "password": "secret-pw", "domain": "d" * 281},
            "domain",
            id="domain",
        ),
    ],
)
def test_a_login_the_schema_refuses_is_refused_before_sending(
    login: dict[str, Any], field: str
) -> None:
    # OpenAPI /auth/sign_in and /login: username 1..64, domain 1..280.
    with pytest.raises(InvalidArgumentError, match=field) as info:
        PBXClient("http://127.0.0.1:9/api", **login)
    assert "secret-pw" not in str(info.value)


def test_an_empty_domain_is_left_out_not_sent_empty() -> None:
    for generation in Generation:
        sent = login_request(generation, "admin", "pw", "")
        body = sent.get("json") or sent.get("data") or {}
        assert "domain" not in body
        assert json.dumps(body)  # JSON-ready either way
