"""FakePBX behaviour beyond the client's view: token endpoints, faults, state rules.

These speak to the fake's ASGI app in-process (httpx.ASGITransport): their point is the
fake's rules, not HTTP; the loopback tests live in tests/pbx.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from ivrhooks.errors import InvalidArgumentError
from ivrhooks.fakepbx.resources import APIError
from ivrhooks.pbx.generations import OAUTH_CLIENT_ID, Generation
from ivrhooks.testing import FakePBX


@pytest.fixture
def fake() -> FakePBX:
    return FakePBX()


@pytest.fixture
async def http(fake: FakePBX) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=fake.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://fake/api/") as client:
        yield client


async def _auth(http: httpx.AsyncClient) -> dict[str, str]:
    reply = await http.post("auth/sign_in", json={"username": "admin", "password": "fakepbx"})
    return {"Authorization": f"Bearer {reply.json()['access_token']}"}


async def test_sign_in_and_single_use_refresh(http: httpx.AsyncClient) -> None:
    reply = await http.post("auth/sign_in", json={"username": "admin", "password": "fakepbx"})
    body = reply.json()
    assert (reply.status_code, body["token_type"], body["expires_in"]) == (200, "Bearer", 3600)
    first = await http.post("auth/refresh_token", json={"refresh_token": body["refresh_token"]})
    again = await http.post("auth/refresh_token", json={"refresh_token": body["refresh_token"]})
    assert first.status_code == 200 and first.json()["access_token"] != body["access_token"]
    assert again.status_code == 401
    bad = await http.post("auth/sign_in", json={"username": "admin", "password": "nope"})
    assert bad.json()["errors"][0]["code"] == "UNAUTHORIZED"


@pytest.mark.parametrize(
    ("form", "status"),
    [
        (
            {
                "grant_type": "password",
                "username": "admin",
                "password": "fakepbx",
                "scope": "all",
                "client_id": OAUTH_CLIENT_ID,
            },
            200,
        ),
        (
            {
                "grant_type": "password",
                "username": "admin",
                "password": "fakepbx",
                "scope": "all",
                "client_id": "someone-else",
            },
            400,
        ),
        (
            {
                "grant_type": "password",
                "username": "admin",
                "password": "x",
                "scope": "all",
                "client_id": OAUTH_CLIENT_ID,
            },
            401,
        ),
        ({"grant_type": "magic", "client_id": OAUTH_CLIENT_ID}, 400),
    ],
    ids=["ok", "client-id", "password", "grant-type"],
)
async def test_oauth_token_endpoint(
    http: httpx.AsyncClient, form: dict[str, str], status: int
) -> None:
    assert (await http.post("login/oauth/token", data=form)).status_code == status


async def test_older_pbx_has_no_sign_in() -> None:
    fake = FakePBX(sign_in_supported=False)
    transport = httpx.ASGITransport(app=fake.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://fake/api/") as http:
        reply = await http.post("auth/sign_in", json={"username": "admin", "password": "fakepbx"})
    assert reply.status_code == 404
    assert fake.login_generations == {Generation.OAUTH, Generation.LOGIN}


LOGIN_JSON = {"username": "admin", "password": "fakepbx"}
OAUTH_FORM = {
    "grant_type": "password",
    "username": "admin",
    "password": "fakepbx",
    "scope": "all",
    "client_id": OAUTH_CLIENT_ID,
}
# Every path of each generation: (method, path, how to send a good request).
PATHS: dict[Generation, list[tuple[str, str, dict[str, Any]]]] = {
    Generation.SIGN_IN: [
        ("POST", "auth/sign_in", {"json": LOGIN_JSON}),
        ("POST", "auth/refresh_token", {"json": {"refresh_token": "unknown"}}),
        ("GET", "auth/user", {}),
    ],
    Generation.OAUTH: [("POST", "login/oauth/token", {"data": OAUTH_FORM})],
    Generation.LOGIN: [("POST", "login", {"json": LOGIN_JSON}), ("GET", "login", {})],
}


@pytest.mark.parametrize(
    "served",
    [["sign_in"], ["oauth"], ["login"], ["oauth", "login"], ["sign_in", "oauth", "login"]],
    ids="+".join,
)
async def test_each_generation_is_served_on_demand(served: list[str]) -> None:
    fake = FakePBX(login_generations=served)
    transport = httpx.ASGITransport(app=fake.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://fake/api/") as http:
        for generation, paths in PATHS.items():
            for method, path, kwargs in paths:
                reply = await http.request(method, path, **kwargs)
                if generation.key in served:
                    assert reply.status_code != 404, (method, path)
                else:
                    assert reply.status_code == 404, (method, path)
                    assert reply.json()["errors"][0]["code"] == "UNKNOWN"


async def test_post_login_answers_the_shape_get_login_documents(http: httpx.AsyncClient) -> None:
    reply = await http.post("login", json=LOGIN_JSON)
    body = reply.json()
    # GET /login documents {access_token, expires_at, expires_in, role}; no refresh token.
    assert sorted(body) == ["access_token", "expires_at", "expires_in", "role"]
    assert (body["expires_in"], body["role"]) == (3600, "Admin")
    assert body["expires_at"].endswith("Z")
    status = await http.get("login", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert status.status_code == 200
    assert status.json()["role"] == "Admin"
    assert (await http.get("login")).status_code == 401


@pytest.mark.parametrize(
    ("role", "capabilities", "expected"),
    [
        ("Admin", ("Phone System: Full Access",), {"capabilities": ["Phone System: Full Access"]}),
        ("StandardUser", (), {"capabilities": []}),
        ("Admin", None, {}),  # a PBX older than v22.3 has no capabilities
    ],
    ids=["admin", "standard-user", "before-22.3"],
)
async def test_auth_user_reports_the_configured_account(
    role: str, capabilities: tuple[str, ...] | None, expected: dict[str, Any]
) -> None:
    fake = FakePBX(role=role, capabilities=capabilities)
    transport = httpx.ASGITransport(app=fake.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://fake/api/") as http:
        assert (await http.get("auth/user")).status_code == 401
        user = await http.get("auth/user", headers=await _auth(http))
    assert user.json() == {
        "username": "admin",
        "role": role,
        "password_force_reset": False,
        **expected,
    }


def test_at_least_one_generation_is_served() -> None:
    with pytest.raises(InvalidArgumentError, match="login_generations"):
        FakePBX(login_generations=[])
    with pytest.raises(InvalidArgumentError, match="sign_in, oauth, login"):
        FakePBX(login_generations=["saml"])


@pytest.mark.parametrize("header", [None, "Bearer nope", "Basic YWRtaW46ZmFrZXBieA=="])
async def test_resource_endpoints_need_a_valid_bearer(
    http: httpx.AsyncClient, fake: FakePBX, header: str | None
) -> None:
    headers = {"Authorization": header} if header else {}
    reply = await http.get("ivrs", headers=headers)
    assert reply.status_code == 401
    assert reply.json()["errors"][0]["code"] == "UNAUTHORIZED"
    assert fake.counters.calls == 0


async def test_expired_tokens_are_refused(http: httpx.AsyncClient, fake: FakePBX) -> None:
    headers = await _auth(http)
    assert (await http.get("ivrs", headers=headers)).status_code == 200
    fake.expire_tokens()
    assert (await http.get("ivrs", headers=headers)).status_code == 401


async def test_statuses_and_counters(http: httpx.AsyncClient, fake: FakePBX) -> None:
    h = await _auth(http)
    created = await http.post(
        "ivrs", json={"name": "M", "extension_number": "800", "pin": "582046"}, headers=h
    )
    ivr_id = created.json()["id"]
    updated = await http.post(f"ivrs/{ivr_id}", json={"name": "N"}, headers=h)
    destroyed = await http.post(f"ivrs/{ivr_id}/destroy", headers=h)
    assert (created.status_code, updated.status_code, destroyed.status_code) == (201, 200, 204)
    assert updated.content == b"" and destroyed.content == b""
    assert (fake.counters.creates, fake.counters.updates, fake.counters.destroys) == (1, 1, 1)
    assert (fake.counters.writes, fake.counters.calls) == (3, 3)
    fake.reset_counters()
    await http.get("ivr_servers", headers=h)
    assert (fake.counters.writes, fake.counters.calls) == (0, 1)


async def test_injected_failures_change_nothing(http: httpx.AsyncClient, fake: FakePBX) -> None:
    h = await _auth(http)
    fake.fail_next(2, 500, retry_after="1")
    body = {"name": "M", "extension_number": "800", "pin": "582046"}
    first = await http.post("ivrs", json=body, headers=h)
    second = await http.post("ivrs", json=body, headers=h)
    third = await http.post("ivrs", json=body, headers=h)
    assert [first.status_code, second.status_code, third.status_code] == [500, 500, 201]
    assert first.headers["retry-after"] == "1"
    assert len(fake.ivrs()) == 1
    with pytest.raises(ValueError, match="fail_next"):
        fake.fail_next(1, 200)


async def test_the_internal_server_cannot_be_deleted(
    http: httpx.AsyncClient, fake: FakePBX
) -> None:
    h = await _auth(http)
    [internal] = fake.store.ivr_servers
    reply = await http.post(f"ivr_servers/{internal}/destroy", headers=h)
    assert reply.status_code == 400
    assert internal in fake.store.ivr_servers


async def test_updates_are_checked_as_a_whole(http: httpx.AsyncClient, fake: FakePBX) -> None:
    h = await _auth(http)
    ivr_id = fake.add_ivr("8000", "Main")
    url: dict[str, Any] = {"name": "x", "dtmf_mask": "1", "url": "http://127.0.0.1:9/x"}
    url_id = fake.resources.create_action_url(ivr_id, url)
    # auth=BASIC alone is valid as a partial body, but the merged object has no username.
    reply = await http.post(
        f"ivrs/{ivr_id}/action_urls/{url_id}", json={"auth": "BASIC"}, headers=h
    )
    assert reply.status_code == 422
    assert "username and password" in reply.json()["errors"][0]["message"]
    assert fake.action_urls("8000")[0].auth.value == "DISABLE"
    ok = await http.post(f"ivrs/{ivr_id}/action_urls/{url_id}", json={"enabled": True}, headers=h)
    assert ok.status_code == 200
    assert fake.action_urls("8000")[0].enabled is True
    assert fake.action_urls("8000")[0].dtmf_mask == "1"


@pytest.mark.parametrize(
    ("field", "mask"), [("caller_mask", "ALL"), ("dtmf_mask", "1-"), ("dtmf_mask", "1;;2")]
)
async def test_masks_are_checked_with_the_pbx_grammar(fake: FakePBX, field: str, mask: str) -> None:
    ivr_id = fake.add_ivr("8000", "Main")
    kind = "CALLER" if field == "caller_mask" else "DTMF"
    with pytest.raises(APIError, match=field):
        fake.resources.create_action_url(ivr_id, {"type": kind, field: mask, "url": "http://x/"})
    assert fake.action_urls("8000") == []


def test_add_ivr_rejects_bad_and_duplicate_extensions(fake: FakePBX) -> None:
    fake.add_ivr("8000", "Main")
    with pytest.raises(ValueError, match="extension_number"):
        fake.add_ivr("8000", "Again")
    with pytest.raises(ValueError, match="extension_number"):
        fake.add_ivr("80", "Short")
    assert [i.name for i in fake.ivrs()] == ["Main"]
    with pytest.raises(LookupError, match="extension_number"):
        fake.action_urls("9999")


async def test_destroying_a_receptionist_destroys_its_action_urls(fake: FakePBX) -> None:
    ivr_id = fake.add_ivr("8000", "Main")
    fake.resources.create_action_url(ivr_id, {"dtmf_mask": "1", "url": "http://x/"})
    fake.resources.destroy_ivr(ivr_id)
    assert fake.store.action_urls == {}
