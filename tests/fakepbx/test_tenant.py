"""``GET``/``POST /api/tenant``: the tenant's two event URLs, checked as PortSIP's OpenAPI says,
merged at the top level (the fake's choice), secrets shown or hidden as the fake is told."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from ivrhooks.schema.tenant import EventUrl, Tenant
from ivrhooks.testing import FakePBX, serve

GOOD = {
    "enabled": True,
    "auth": "BASIC",
    "username": "events1",
    "password": "s3cretpass",
    "url": "https://crm.example.com/portsip/cdr",
}


@contextlib.asynccontextmanager
async def signed_in(pbx: FakePBX, base: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=base + "/api/") as http:
        login = {"username": pbx.username, "password": pbx.password}
        reply = await http.post("auth/sign_in", json=login)
        http.headers["Authorization"] = f"Bearer {reply.json()['access_token']}"
        yield http


@pytest.fixture
async def served() -> AsyncIterator[tuple[FakePBX, httpx.AsyncClient]]:
    pbx = FakePBX()
    async with serve(pbx.app) as base, signed_in(pbx, base) as http:
        yield pbx, http


async def test_a_new_tenant_has_both_event_urls_disabled(
    served: tuple[FakePBX, httpx.AsyncClient],
) -> None:
    _, http = served
    reply = await http.get("tenant")
    assert reply.status_code == 200
    body = reply.json()
    blank = {
        "enabled": False,
        "auth": "DISABLE",
        "username": None,
        "password": None,
        "token": None,
        "url": None,
    }
    assert body["cdr_event"] == body["extension_event"] == blank
    tenant = Tenant.model_validate(body)
    assert tenant.cdr_event == EventUrl() and tenant.id and tenant.domain == "fakepbx.test"


async def test_post_merges_and_get_reads_it_back(served: tuple[FakePBX, httpx.AsyncClient]) -> None:
    pbx, http = served
    bearer = {"enabled": True, "auth": "BEARER", "token": "t0k", "url": "http://127.0.0.1:9/ext"}
    assert (await http.post("tenant", json={"cdr_event": GOOD})).status_code == 200
    assert (
        await http.post("tenant", json={"extension_event": bearer, "website": "x.io"})
    ).status_code == 200
    body = (await http.get("tenant")).json()
    assert body["cdr_event"] == {**GOOD, "token": None}, "the first POST's object is kept"
    assert body["extension_event"] == {**bearer, "username": None, "password": None}
    assert body["website"] == "x.io" and body["name"] == "Fake tenant"
    assert pbx.tenant["cdr_event"] == GOOD
    # A POST replaces a whole event object (top-level merge): what it leaves out is gone.
    assert (await http.post("tenant", json={"cdr_event": {"enabled": False}})).status_code == 200
    assert (await http.get("tenant")).json()["cdr_event"]["url"] is None
    assert (pbx.counters.updates, pbx.counters.calls) == (3, 5)  # 3 POSTs, 2 GETs


async def test_secrets_can_be_left_out_of_get() -> None:
    pbx = FakePBX(hide_event_secrets=True)
    async with serve(pbx.app) as base, signed_in(pbx, base) as http:
        await http.post("tenant", json={"cdr_event": GOOD})
        body = (await http.get("tenant")).json()
    assert body["cdr_event"] == {k: v for k, v in GOOD.items() if k != "password"}
    assert "token" not in body["extension_event"] and "password" not in body["extension_event"]
    assert pbx.tenant["cdr_event"]["password"] == GOOD["password"], "kept, only not shown"


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        pytest.param(
            {"cdr_event": {**GOOD, "username": "Events"}}, "cdr_event.username", id="username-rule"
        ),
        pytest.param(
            {"cdr_event": {**GOOD, "password": "short"}}, "cdr_event.password", id="password-rule"
        ),
        pytest.param(
            {"cdr_event": {**GOOD, "url": "https://x/" + "a" * 130}},
            "cdr_event.url",
            id="url-too-long",
        ),
        pytest.param({"cdr_event": {**GOOD, "url": ""}}, "cdr_event.url", id="url-empty"),
        pytest.param({"cdr_event": {**GOOD, "auth": "HMAC"}}, "cdr_event.auth", id="unknown-auth"),
        pytest.param(
            {"cdr_event": {**GOOD, "enabled": "yes"}}, "cdr_event.enabled", id="not-a-boolean"
        ),
        pytest.param(
            {"cdr_event": {**GOOD, "secret": "x"}}, "cdr_event.secret", id="unknown-field"
        ),
        pytest.param(
            {"cdr_event": {k: v for k, v in GOOD.items() if k != "password"}},
            "password: required when auth is BASIC",
            id="basic-without-password",
        ),
        pytest.param(
            {"extension_event": {"auth": "BEARER", "url": "http://x"}},
            "token: required when auth is BEARER",
            id="bearer-without-token",
        ),
        pytest.param(
            {"cdr_event": {"enabled": True}},
            "url: required when enabled is true",
            id="enabled-without-url",
        ),
        pytest.param({"cdr_event": None}, "must not be null", id="null"),
        pytest.param({"cdr_event": "http://x"}, "cdr_event", id="not-an-object"),
        pytest.param(
            {"max_extensions": 5},
            "max_extensions: not a field of POST /tenant",
            id="read-only-field",
        ),
    ],
)
async def test_a_bad_post_is_refused_and_changes_nothing(
    served: tuple[FakePBX, httpx.AsyncClient], body: dict[str, Any], problem: str
) -> None:
    pbx, http = served
    before = (await http.get("tenant")).json()
    reply = await http.post("tenant", json={**body, "website": "changed.io"})
    assert reply.status_code == 422, reply.text
    error = reply.json()["errors"][0]
    assert error["code"] == "VALIDATE_FAILED" and problem in error["message"], error
    assert (await http.get("tenant")).json() == before
    assert pbx.tenant["website"] is None


@pytest.mark.parametrize(("content", "status"), [(b"[]", 400), (b"{", 400)])
async def test_a_body_that_is_not_an_object(
    served: tuple[FakePBX, httpx.AsyncClient], content: bytes, status: int
) -> None:
    _, http = served
    reply = await http.post("tenant", content=content, headers={"content-type": "application/json"})
    assert reply.status_code == status and reply.json()["errors"][0]["code"] == "VALIDATE_FAILED"


async def test_the_tenant_needs_a_token() -> None:
    pbx = FakePBX()
    async with serve(pbx.app) as base, httpx.AsyncClient(base_url=base + "/api/") as http:
        assert (await http.get("tenant")).status_code == 401
        assert (await http.post("tenant", json={"cdr_event": GOOD})).status_code == 401
    assert pbx.tenant["cdr_event"] == {"enabled": False, "auth": "DISABLE"}
