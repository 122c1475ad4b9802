"""The token as an ``httpx.Auth`` flow: driven by a plain ``httpx.AsyncClient`` over
``httpx.MockTransport``, no network and no PBXClient around it (the flow is the point)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from ivrhooks.pbx import PBXClient, PBXUnauthorizedError
from ivrhooks.pbx.auth import BearerAuth
from ivrhooks.pbx.ratelimit import RateBudget
from ivrhooks.pbx.tokens import TokenManager

API = "http://pbx.test/api/"


class PBX:
    """A scripted PBX: ``auth/sign_in`` hands out ``token-1``, ``token-2``...; resources answer
    200 to the tokens in ``accepted`` and 401 to the rest."""

    def __init__(self, accepted: set[str]) -> None:
        self.accepted = accepted
        self.logins = 0
        self.seen: list[str] = []  # the Authorization header of each resource request

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/auth/sign_in":
            self.logins += 1
            body = {"access_token": f"token-{self.logins}", "expires_in": 3600}
            return httpx.Response(200, json=body)
        header = request.headers.get("Authorization", "")
        self.seen.append(header)
        if header.removeprefix("Bearer ") in self.accepted:
            return httpx.Response(200, json={"items": []})
        return httpx.Response(401, json={"errors": [{"code": "UNAUTHORIZED", "message": "no"}]})


@asynccontextmanager
async def _flow(pbx: PBX, **login: Any) -> AsyncIterator[tuple[httpx.AsyncClient, TokenManager]]:
    """An httpx client with :class:`BearerAuth`, its token manager logging in to ``pbx``."""
    transport = httpx.MockTransport(pbx)
    async with httpx.AsyncClient(base_url=API, transport=transport) as login_http:

        async def send(method: str, path: str, **kwargs: Any) -> httpx.Response:
            return await login_http.request(method, path, **kwargs)

        tokens = TokenManager(send, **({"username": "admin", "password": "secret1"} | login))
        auth = BearerAuth(tokens)
        async with httpx.AsyncClient(base_url=API, transport=transport, auth=auth) as http:
            yield http, tokens


async def test_the_flow_adds_the_bearer_token_and_logs_in_once() -> None:
    pbx = PBX(accepted={"token-1"})
    async with _flow(pbx) as (http, tokens):
        for _ in range(3):
            assert (await http.get("ivrs")).status_code == 200
    assert pbx.seen == ["Bearer token-1"] * 3
    assert (pbx.logins, tokens.logins) == (1, 1)


async def test_a_401_logs_in_again_once_and_resends() -> None:
    pbx = PBX(accepted={"token-2"})  # the first token dies before its expires_in
    async with _flow(pbx) as (http, _):
        response = await http.get("ivrs")
    assert response.status_code == 200
    assert pbx.seen == ["Bearer token-1", "Bearer token-2"]
    assert pbx.logins == 2
    assert [r.status_code for r in response.history] == [401]


async def test_a_second_401_is_the_answer() -> None:
    pbx = PBX(accepted=set())  # the PBX refuses every token
    async with _flow(pbx) as (http, _):
        response = await http.get("ivrs")
    # One fresh login, one resend, then the flow gives up: no loop of logins.
    assert response.status_code == 401
    assert pbx.seen == ["Bearer token-1", "Bearer token-2"]
    assert pbx.logins == 2


async def test_a_static_token_is_sent_and_a_401_returned_as_it_is() -> None:
    pbx = PBX(accepted=set())
    async with _flow(pbx, username=None, password=None, token="static-token") as (http, _):
        response = await http.get("ivrs")
    assert response.status_code == 401
    assert (pbx.seen, pbx.logins) == (["Bearer static-token"], 0)


def test_the_flow_is_async_only() -> None:
    tokens = TokenManager(_never, username=None, password=None, token="t")
    transport = httpx.MockTransport(PBX(set()))
    with (
        httpx.Client(transport=transport, auth=BearerAuth(tokens)) as http,
        pytest.raises(RuntimeError, match=r"httpx\.AsyncClient"),
    ):
        http.get(API + "ivrs")


async def _never(method: str, path: str, **kwargs: Any) -> httpx.Response:
    raise AssertionError("no login expected")


# --- the same flow inside PBXClient ----------------------------------------------------------


class CountingBudget(RateBudget):
    def __init__(self) -> None:
        super().__init__(100)
        self.slots = 0

    async def acquire(self) -> None:
        self.slots += 1
        await super().acquire()


async def test_the_client_gives_up_after_one_fresh_login_and_every_request_takes_a_slot() -> None:
    pbx = PBX(accepted=set())
    budget = CountingBudget()
    transport = httpx.MockTransport(pbx)
    async with PBXClient(
        API, username="admin", password="secret1", transport=transport, rate=budget
    ) as client:
        with pytest.raises(PBXUnauthorizedError):
            await client.ivrs.get("x")
    assert (pbx.logins, len(pbx.seen)) == (2, 2)
    # Two logins and two resource requests went on the wire: four slots, the resend's included.
    assert budget.slots == 4
    assert isinstance(client.auth, httpx.Auth)
