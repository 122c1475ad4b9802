"""The fake PBX is as strict as the published schema, and no stricter where it is silent.

Raw requests over loopback HTTP, bypassing the client (which never sends these): booleans are
JSON booleans, integers JSON integers, no field is null, a sign-in domain is 1..280 characters,
``skip`` is an int32. The filter operators are the ones PortSIP REST "About" documents, blanks
are returned as null, and PINs follow PortSIP's PIN policy.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from ivrhooks.fakepbx.resources import pin_policy_problem
from ivrhooks.pbx import PBXClient
from ivrhooks.pbx.tls import tls_context
from ivrhooks.testing import FakePBX, serve

IVR = {"name": "Main", "extension_number": "8001", "pin": "582046"}
URL = {"name": "n", "type": "DTMF", "dtmf_mask": "1", "url": "http://127.0.0.1:9/hook"}


@pytest.fixture
async def raw(fake: FakePBX) -> AsyncIterator[httpx.AsyncClient]:
    # verify=tls_context(): the process's one TLS context (ivrhooks.pbx.tls), not a CA bundle
    # loaded per client; this client speaks plain HTTP on loopback anyway.
    async with (
        serve(fake.app) as base,
        httpx.AsyncClient(base_url=base + "/api/", verify=tls_context()) as http,
    ):
        reply = await http.post("auth/sign_in", json={"username": "admin", "password": "fakepbx"})
        http.headers["Authorization"] = f"Bearer {reply.json()['access_token']}"
        yield http


@pytest.fixture
def fake() -> FakePBX:
    pbx = FakePBX()
    pbx.add_ivr("8000", "Main")
    return pbx


# (what is sent where, the field the 422 must name)
LOOSE: list[Any] = [
    pytest.param("ivrs", {**IVR, "enable_pin": "yes"}, "enable_pin", id="bool-as-yes"),
    pytest.param("ivrs", {**IVR, "enable_pin": 1}, "enable_pin", id="bool-as-1"),
    pytest.param("ivrs", {**IVR, "dtmf_interval": "2"}, "dtmf_interval", id="int-as-text"),
    pytest.param("ivrs", {**IVR, "dtmf_interval": True}, "dtmf_interval", id="int-as-bool"),
    pytest.param("ivrs", {**IVR, "pin": 582046}, "pin", id="pin-as-number"),
    pytest.param("ivrs", {**IVR, "language": None}, "language", id="null-string"),
    pytest.param("ivrs", {**IVR, "failure_forward_rule": None}, "failure_forward_rule", id="null"),
    pytest.param("ivr_servers", {"name": "m", "ipv4": "10.0.0.9", "enabled": 1}, "enabled", id="1"),
    pytest.param("urls", {**URL, "enabled": "true"}, "enabled", id="bool-as-true-text"),
    pytest.param("urls", {**URL, "request_timeout": "2"}, "request_timeout", id="timeout-text"),
    pytest.param("urls", {**URL, "request_timeout": 2.5}, "request_timeout", id="timeout-float"),
    pytest.param("urls", {**URL, "dtmf_mask": None}, "dtmf_mask", id="null-mask"),
    pytest.param("urls", {**URL, "type": "dtmf"}, "type", id="enum-case"),
]


@pytest.mark.parametrize(("where", "body", "field"), LOOSE)
async def test_loose_json_is_refused(
    raw: httpx.AsyncClient, fake: FakePBX, where: str, body: dict[str, Any], field: str
) -> None:
    path = {"urls": f"ivrs/{fake.ivr('8000').id}/action_urls"}.get(where, where)
    reply = await raw.post(path, json=body)
    assert reply.status_code == 422, reply.text
    [error] = reply.json()["errors"]
    assert error["code"] == "VALIDATE_FAILED"
    assert field in error["message"]
    assert len(fake.ivrs()) == 1 and fake.action_urls("8000") == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({"username": "admin", "password": "fakepbx", "domain": ""}, "domain", id="0"),
        pytest.param(
            {"username": "admin", "password": "fakepbx", "domain": "d" * 281}, "domain", id="281"
        ),
        pytest.param({"username": "", "password": "fakepbx"}, "username", id="empty-username"),
        pytest.param({"username": 7, "password": "fakepbx"}, "username", id="number-username"),
        pytest.param({"username": "admin"}, "password", id="no-password"),
        pytest.param({"username": "admin", "password": None}, "password", id="null-password"),
    ],
)
@pytest.mark.parametrize("path", ["auth/sign_in", "login"])
async def test_sign_in_bodies_follow_the_schema(
    raw: httpx.AsyncClient, path: str, body: dict[str, Any], field: str
) -> None:
    reply = await raw.post(path, json=body)
    assert reply.status_code == 422
    assert field in reply.json()["errors"][0]["message"]
    assert "fakepbx" not in reply.text  # the password is never echoed


async def test_a_280_character_domain_is_a_valid_sign_in(raw: httpx.AsyncClient) -> None:
    body = {"username": "admin", "password": "fakepbx", "domain": "d" * 280}
    assert (await raw.post("auth/sign_in", json=body)).status_code == 200


@pytest.mark.parametrize(
    ("skip", "status"),
    [("0", 200), ("2147483647", 200), ("2147483648", 400), ("99999999999999999999", 400)],
    ids=["zero", "int32-max", "int32-max+1", "huge"],
)
async def test_skip_is_an_int32(raw: httpx.AsyncClient, skip: str, status: int) -> None:
    reply = await raw.get("ivrs", params={"skip": skip})
    assert reply.status_code == status
    if status == 200:
        assert reply.json()["count"] == 1


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("extension_number gt '8001'", ["8002", "8003"]),
        ("extension_number ge '8001'", ["8001", "8002", "8003"]),
        ("extension_number lt '8001'", ["8000"]),
        ("extension_number le '8001'", ["8000", "8001"]),
        ("extension_number ge '8001' and extension_number lt '8003'", ["8001", "8002"]),
    ],
)
async def test_the_documented_filter_operators_work_through_the_client(
    fake: FakePBX, query: str, expected: list[str]
) -> None:
    for ext in ("8001", "8002", "8003"):
        fake.add_ivr(ext, f"R{ext}")
    async with (
        serve(fake.app) as base,
        PBXClient(base + "/api", username="admin", password="fakepbx") as pbx,
    ):
        found = [i.extension_number async for i in pbx.ivrs.list(filter=query)]
    assert found == expected


async def test_blank_fields_come_back_as_null(raw: httpx.AsyncClient, fake: FakePBX) -> None:
    ivr_id = fake.ivr("8000").id
    created = await raw.post(f"ivrs/{ivr_id}/action_urls", json={**URL, "headers": ""})
    url = (await raw.get(f"ivrs/{ivr_id}/action_urls/{created.json()['id']}")).json()
    # "Blank fields are explicitly included as null values" (About, Data Format).
    for field in ("username", "password", "token", "headers", "caller_mask"):
        assert field in url and url[field] is None, field
    ivr = (await raw.get(f"ivrs/{ivr_id}")).json()
    assert "exclude_list" in ivr and ivr["exclude_list"] is None
    assert ivr["prompt_file_name"] is None
    assert ivr["custom_forward_rules"] == [] and ivr["outbound_caller_ids"] == []


@pytest.mark.parametrize(
    ("pin", "problem"),
    [
        ("111234", "three times in a row"),
        ("582220", "three times in a row"),
        ("123580", "three ascending digits"),
        ("580789", "three ascending digits"),
        ("582046", None),
        ("987654", None),  # descending runs are not in the policy's examples
        ("1357924680", None),
    ],
)
def test_the_pin_policy(pin: str, problem: str | None) -> None:
    found = pin_policy_problem(pin)
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found


@pytest.mark.parametrize("pin", ["111234", "012345"])
async def test_the_fake_refuses_pins_against_the_policy(raw: httpx.AsyncClient, pin: str) -> None:
    reply = await raw.post("ivrs", json={**IVR, "pin": pin})
    assert reply.status_code == 422
    assert reply.json()["errors"][0]["message"].startswith("pin: ")
    ivr_id = (await raw.post("ivrs", json=IVR)).json()["id"]
    assert (await raw.post(f"ivrs/{ivr_id}", json={"pin": pin})).status_code == 422


def test_add_ivr_stores_a_pin_a_real_pbx_accepts(fake: FakePBX) -> None:
    pin = fake.ivr("8000").pin
    assert pin is not None and pin.isdigit() and 6 <= len(pin) <= 10
    assert pin_policy_problem(pin) is None
