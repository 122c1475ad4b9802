"""Bad fields are rejected by the client before sending, and by the fake PBX when sent raw."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from ivrhooks.pbx import PBXClient, PBXValidationError
from ivrhooks.testing import FakePBX

URL = "http://127.0.0.1:9/hook"
GOOD_URL: dict[str, Any] = {"name": "n", "type": "DTMF", "dtmf_mask": "1", "url": URL}
GOOD_IVR: dict[str, Any] = {"name": "Main", "extension_number": "8000", "pin": "1234"}

# (group, method, field named in the error, fields) - one row per constrained field.
CASES: list[tuple[str, str, str, dict[str, Any]]] = [
    ("ivr_servers", "create", "name", {"name": "", "ipv4": "10.0.0.1"}),
    ("ivr_servers", "create", "name", {"name": "x" * 65, "ipv4": "10.0.0.1"}),
    ("ivr_servers", "create", "ipv4 or ipv6", {"name": "m"}),
    ("ivr_servers", "create", "colour", {"name": "m", "ipv4": "10.0.0.1", "colour": "red"}),
    ("ivr_servers", "update", "enabled", {"enabled": "sometimes"}),
    ("ivrs", "create", "extension_number", {**GOOD_IVR, "extension_number": "12"}),
    ("ivrs", "create", "extension_number", {**GOOD_IVR, "extension_number": "80a0"}),
    ("ivrs", "create", "name", {**GOOD_IVR, "name": ""}),
    ("ivrs", "create", "pin", {"name": "Main", "extension_number": "8000"}),
    ("ivrs", "create", "dtmf_interval", {**GOOD_IVR, "dtmf_interval": 0}),
    ("ivrs", "update", "name", {"name": "y" * 65}),
    ("ivrs", "update", "dtmf_interval", {"dtmf_interval": -1}),
    ("action_urls", "create", "name", {**GOOD_URL, "name": ""}),
    ("action_urls", "create", "type", {**GOOD_URL, "type": "SMS"}),
    ("action_urls", "create", "method", {**GOOD_URL, "method": "PUT"}),
    ("action_urls", "create", "dtmf_mask", {**GOOD_URL, "dtmf_mask": "1" * 256}),
    ("action_urls", "create", "dtmf_mask", {**GOOD_URL, "dtmf_mask": "1;2;1"}),
    ("action_urls", "create", "caller_mask", {**GOOD_URL, "caller_mask": "9" * 256}),
    ("action_urls", "create", "caller_mask", {**GOOD_URL, "caller_mask": "101;101"}),
    ("action_urls", "create", "connection_timeout", {**GOOD_URL, "connection_timeout": 0}),
    ("action_urls", "create", "request_timeout", {**GOOD_URL, "request_timeout": 0}),
    ("action_urls", "create", "url", {**GOOD_URL, "url": ""}),
    ("action_urls", "create", "url", {**GOOD_URL, "url": "http://x/" + "a" * 1020}),
    ("action_urls", "create", "auth", {**GOOD_URL, "auth": "NTLM"}),
    ("action_urls", "create", "username", {**GOOD_URL, "username": "Bad User"}),
    ("action_urls", "create", "password", {**GOOD_URL, "password": "short"}),
    ("action_urls", "create", "token", {**GOOD_URL, "token": ""}),
    ("action_urls", "create", "username and password", {**GOOD_URL, "auth": "BASIC"}),
    ("action_urls", "create", "token", {**GOOD_URL, "auth": "BEARER"}),
    ("action_urls", "update", "enabled", {"enabled": "yes please"}),
]
IDS = [f"{g}.{m}:{f}:{i}" for i, (g, m, f, _) in enumerate(CASES)]


async def _call(
    pbx: PBXClient, fake: FakePBX, group: str, method: str, fields: dict[str, Any]
) -> Any:
    ivr_id = fake.add_ivr("8000", "Main")
    server_id = next(iter(fake.store.ivr_servers))
    if group == "ivr_servers":
        if method == "create":
            return await pbx.ivr_servers.create(**fields)
        return await pbx.ivr_servers.update(server_id, **fields)
    if group == "ivrs":
        if method == "create":
            return await pbx.ivrs.create(**fields)
        return await pbx.ivrs.update(ivr_id, **fields)
    if method == "create":
        return await pbx.action_urls.create(ivr_id, **fields)
    url_id = fake.resources.create_action_url(ivr_id, GOOD_URL)
    return await pbx.action_urls.update(ivr_id, url_id, **fields)


@pytest.mark.parametrize(("group", "method", "field", "fields"), CASES, ids=IDS)
async def test_client_rejects_before_sending(
    pbx_inproc: PBXClient,
    fake: FakePBX,
    group: str,
    method: str,
    field: str,
    fields: dict[str, Any],
) -> None:
    with pytest.raises(ValidationError) as info:
        await _call(pbx_inproc, fake, group, method, fields)
    assert field in str(info.value)
    assert fake.counters.calls == 0  # nothing reached the PBX ...
    assert fake.tokens.logins == 0  # ... not even a login
    assert len(fake.store.ivrs) == 1
    assert len(fake.store.ivr_servers) == 1
    expected_urls = 1 if (group, method) == ("action_urls", "update") else 0
    assert sum(len(v) for v in fake.store.action_urls.values()) == expected_urls


def _path(fake: FakePBX, group: str, method: str) -> str:
    ivr_id = fake.add_ivr("8000", "Main")
    if group == "ivr_servers":
        return (
            "ivr_servers"
            if method == "create"
            else f"ivr_servers/{next(iter(fake.store.ivr_servers))}"
        )
    if group == "ivrs":
        return "ivrs" if method == "create" else f"ivrs/{ivr_id}"
    if method == "create":
        return f"ivrs/{ivr_id}/action_urls"
    url_id = fake.resources.create_action_url(ivr_id, GOOD_URL)
    return f"ivrs/{ivr_id}/action_urls/{url_id}"


def _snapshot(fake: FakePBX) -> Any:
    return (
        dict(fake.store.ivr_servers),
        dict(fake.store.ivrs),
        {k: dict(v) for k, v in fake.store.action_urls.items()},
    )


@pytest.mark.parametrize(("group", "method", "field", "fields"), CASES, ids=IDS)
async def test_fake_pbx_rejects_raw_bad_json(
    fake: FakePBX,
    pbx: PBXClient,
    base_url: str,
    group: str,
    method: str,
    field: str,
    fields: dict[str, Any],
) -> None:
    path = _path(fake, group, method)
    before = _snapshot(fake)
    token = await pbx.tokens.token()
    async with httpx.AsyncClient(base_url=base_url + "/") as raw:
        response = await raw.post(path, json=fields, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["code"] == "VALIDATE_FAILED"
    assert field.split(" ")[0] in error["message"]
    assert _snapshot(fake) == before  # a rejected write changes nothing


async def test_fake_pbx_rejects_unparseable_body(
    fake: FakePBX, pbx: PBXClient, base_url: str
) -> None:
    token = await pbx.tokens.token()
    async with httpx.AsyncClient(base_url=base_url + "/") as raw:
        response = await raw.post(
            "ivrs", content=b"{not json", headers={"Authorization": f"Bearer {token}"}
        )
        listed = await raw.post("ivrs", json=[1, 2], headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"].startswith("body:")
    assert listed.status_code == 400
    assert fake.store.ivrs == {}


async def test_server_side_rejection_maps_to_validation_error(
    pbx: PBXClient, fake: FakePBX
) -> None:
    # Valid for the model, refused by the PBX: an extension number already in use,
    # and a mask entry the PBX grammar does not know.
    fake.add_ivr("8000", "Main")
    with pytest.raises(PBXValidationError) as info:
        await pbx.ivrs.create(name="Other", extension_number="8000", pin="1")
    assert info.value.status == 422
    assert "extension_number" in info.value.message
    ivr_id = fake.ivr("8000").id
    with pytest.raises(PBXValidationError, match="dtmf_mask"):
        await pbx.action_urls.create(ivr_id, name="x", type="DTMF", dtmf_mask="1x", url=URL)
    assert len(fake.store.ivrs) == 1
    assert fake.action_urls("8000") == []  # a rejected create leaves nothing behind


async def test_page_size_over_100_is_refused_before_sending(
    pbx_inproc: PBXClient, fake: FakePBX
) -> None:
    with pytest.raises(ValidationError, match="top"):
        [s async for s in pbx_inproc.ivrs.list(page_size=101)]
    assert fake.counters.calls == 0


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("top=0", "top"),
        ("top=101", "top"),
        ("skip=-1", "skip"),
        ("filter=name%20gt%20'a'", "filter"),
        ("orderby=name%20sideways", "orderby"),
    ],
)
async def test_fake_pbx_rejects_bad_list_parameters(
    pbx: PBXClient, base_url: str, query: str, field: str
) -> None:
    token = await pbx.tokens.token()
    async with httpx.AsyncClient() as raw:
        response = await raw.get(
            f"{base_url}/ivrs?{query}", headers={"Authorization": f"Bearer {token}"}
        )
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"].startswith(field)
