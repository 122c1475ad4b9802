"""Bad fields are rejected by the client before sending, and by the fake PBX when sent raw.

The limits are the published OpenAPI document's (tests/conformance/portsip-openapi-ivr.json):
``pin`` 6-10 characters (digits), action URL ``url`` at most 128 characters, timeouts int32
from 0. The client raises :class:`InvalidArgumentError` naming the field, never pydantic's
``ValidationError``, and nothing goes over the wire.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from ivrhooks.errors import InvalidArgumentError
from ivrhooks.pbx import PBXClient, PBXValidationError
from ivrhooks.pbx.tls import tls_context
from ivrhooks.testing import FakePBX

URL = "http://127.0.0.1:9/hook"
GOOD_URL: dict[str, Any] = {"name": "n", "type": "DTMF", "dtmf_mask": "1", "url": URL}
GOOD_IVR: dict[str, Any] = {"name": "Main", "extension_number": "8000", "pin": "582046"}
INT32_MAX = 2**31 - 1

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
    ("ivrs", "create", "pin", {**GOOD_IVR, "pin": "1"}),
    ("ivrs", "create", "pin", {**GOOD_IVR, "pin": "58204"}),  # 5: one short of the spec's 6
    ("ivrs", "create", "pin", {**GOOD_IVR, "pin": "58204613579"}),  # 11: one over its 10
    ("ivrs", "create", "pin", {**GOOD_IVR, "pin": "58a046"}),  # "a sequence of numbers"
    ("ivrs", "create", "dtmf_interval", {**GOOD_IVR, "dtmf_interval": 0}),
    ("ivrs", "create", "dtmf_interval", {**GOOD_IVR, "dtmf_interval": INT32_MAX + 1}),
    ("ivrs", "create", "timeout_forward_rule", {**GOOD_IVR, "timeout_forward_rule": {"x": 1}}),
    (
        "ivrs",
        "create",
        "failure_forward_rule",
        {**GOOD_IVR, "failure_forward_rule": {"action": "SING"}},
    ),
    (
        "ivrs",
        "create",
        "custom_forward_rules",
        {**GOOD_IVR, "custom_forward_rules": [{"office_hours_forward_rule": {"action": "X"}}]},
    ),
    (
        "ivrs",
        "create",
        "outbound_caller_ids",
        {**GOOD_IVR, "outbound_caller_ids": [{"caller_id": ""}]},
    ),
    ("ivrs", "update", "name", {"name": "y" * 65}),
    ("ivrs", "update", "name", {"name": None}),  # no request schema allows null
    ("ivrs", "update", "pin", {"pin": "12345678901"}),
    ("ivrs", "update", "dtmf_interval", {"dtmf_interval": -1}),
    ("action_urls", "create", "name", {**GOOD_URL, "name": ""}),
    ("action_urls", "create", "type", {**GOOD_URL, "type": "SMS"}),
    ("action_urls", "create", "method", {**GOOD_URL, "method": "PUT"}),
    ("action_urls", "create", "dtmf_mask", {**GOOD_URL, "dtmf_mask": "1" * 256}),
    ("action_urls", "create", "dtmf_mask", {**GOOD_URL, "dtmf_mask": "1;2;1"}),
    ("action_urls", "create", "caller_mask", {**GOOD_URL, "caller_mask": "9" * 256}),
    ("action_urls", "create", "caller_mask", {**GOOD_URL, "caller_mask": "101;101"}),
    ("action_urls", "create", "connection_timeout", {**GOOD_URL, "connection_timeout": -1}),
    ("action_urls", "create", "request_timeout", {**GOOD_URL, "request_timeout": -1}),
    (
        "action_urls",
        "create",
        "request_timeout",
        {**GOOD_URL, "request_timeout": INT32_MAX + 1},
    ),
    ("action_urls", "create", "url", {**GOOD_URL, "url": ""}),
    ("action_urls", "create", "url", {**GOOD_URL, "url": "http://x/" + "a" * 120}),  # 129
    ("action_urls", "create", "url", {**GOOD_URL, "url": "http://x/" + "a" * 1020}),
    ("action_urls", "create", "auth", {**GOOD_URL, "auth": "NTLM"}),
    ("action_urls", "create", "username", {**GOOD_URL, "username": "Bad User"}),
    ("action_urls", "create", "password", {**GOOD_URL, "password": "short"}),
    ("action_urls", "create", "username and password", {**GOOD_URL, "auth": "BASIC"}),
    ("action_urls", "create", "token", {**GOOD_URL, "auth": "BEARER"}),
    ("action_urls", "create", "token", {**GOOD_URL, "auth": "BEARER", "token": ""}),
    ("action_urls", "create", "headers", {**GOOD_URL, "headers": None}),
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
    with pytest.raises(InvalidArgumentError) as info:
        await _call(pbx_inproc, fake, group, method, fields)
    assert field in str(info.value)
    assert isinstance(info.value, ValueError)  # InvalidArgumentError is also a ValueError
    assert isinstance(info.value.__cause__, ValidationError)  # kept as the cause only
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
    # verify=tls_context(): the process's one TLS context (ivrhooks.pbx.tls), not a CA bundle
    # loaded per client; plain HTTP on loopback anyway.
    async with httpx.AsyncClient(base_url=base_url + "/", verify=tls_context()) as raw:
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
    async with httpx.AsyncClient(base_url=base_url + "/", verify=tls_context()) as raw:
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
        await pbx.ivrs.create(name="Other", extension_number="8000", pin="975310")
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
    with pytest.raises(InvalidArgumentError, match="top"):
        [s async for s in pbx_inproc.ivrs.list(page_size=101)]
    with pytest.raises(InvalidArgumentError, match="id"):
        await pbx_inproc.ivrs.get("")
    assert fake.counters.calls == 0


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("top=0", "top"),
        ("top=101", "top"),
        ("skip=-1", "skip"),
        ("skip=2147483648", "skip"),  # int32 (OpenAPI format)
        ("skip=%2B1", "skip"),
        ("top=1.0", "top"),
        ("filter=name%20like%20'a'", "filter"),
        ("orderby=name%20sideways", "orderby"),
    ],
)
async def test_fake_pbx_rejects_bad_list_parameters(
    pbx: PBXClient, base_url: str, query: str, field: str
) -> None:
    token = await pbx.tokens.token()
    async with httpx.AsyncClient(verify=tls_context()) as raw:
        response = await raw.get(
            f"{base_url}/ivrs?{query}", headers={"Authorization": f"Bearer {token}"}
        )
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"].startswith(field)


# Values the published schema allows, one per rule that used to refuse them: the client sends
# them and the fake PBX stores them.
NEW_IVR: dict[str, Any] = {**GOOD_IVR, "extension_number": "8001"}
ALLOWED: list[tuple[str, str, str, dict[str, Any]]] = [
    ("pin-6-digits", "ivrs", "create", {**NEW_IVR, "pin": "582046"}),
    ("pin-10-digits", "ivrs", "create", {**NEW_IVR, "pin": "5820461357"}),
    ("pin-update", "ivrs", "update", {"pin": "9753108642"}),
    ("dtmf_interval-int32-max", "ivrs", "create", {**NEW_IVR, "dtmf_interval": INT32_MAX}),
    (
        "forward-rules-and-caller-ids",
        "ivrs",
        "create",
        {
            **NEW_IVR,
            "timeout_forward_rule": {
                "timeout": 20,
                "repeat_times": 0,
                "action": "FORWARD_TO_NUMBER",
                "number": "101",
            },
            "failure_forward_rule": {"action": "HANGUP"},
            "night_mode_forward_rule": {"action": "FORWARD_TO_VOICEMAIL", "number": "101"},
            "custom_forward_rules": [
                {
                    "user_input": "1",
                    "office_hours": {
                        "mode": "CUSTOM",
                        "monday": {
                            "enabled": True,
                            "ranges": [{"from": "09:00", "to": "12:00"}],
                        },
                    },
                    "office_hours_forward_rule": {"action": "DISA"},
                    "non_office_hours_forward_rule": {"action": "REPEAT"},
                    "holidays": ["NzAwNTUxOTA5NzczMTQ4MTYw"],
                    "holiday_forward_rule": {"action": "HANGUP"},
                }
            ],
            "outbound_caller_ids": [
                {"provider_id": "NzAw", "caller_id": "4420", "description": "main line"}
            ],
        },
    ),
    ("forward-rule-update", "ivrs", "update", {"failure_forward_rule": {"action": "REPEAT"}}),
    ("caller-ids-cleared", "ivrs", "update", {"outbound_caller_ids": []}),
    ("newer-than-schema", "ivrs", "update", {"enable_night_mode": True, "exclude_list": "101,102"}),
    (
        "timeouts-0",
        "action_urls",
        "create",
        {**GOOD_URL, "connection_timeout": 0, "request_timeout": 0},
    ),
    ("timeout-int32-max", "action_urls", "create", {**GOOD_URL, "request_timeout": INT32_MAX}),
    ("url-128", "action_urls", "create", {**GOOD_URL, "url": "http://x/" + "a" * 119}),
    ("blank-token-without-bearer", "action_urls", "create", {**GOOD_URL, "token": ""}),
    ("timeout-0-update", "action_urls", "update", {"connection_timeout": 0}),
]


@pytest.mark.parametrize(
    ("group", "method", "fields"),
    [pytest.param(*row[1:], id=row[0]) for row in ALLOWED],
)
async def test_what_the_schema_allows_is_sent_and_stored(
    pbx: PBXClient, fake: FakePBX, group: str, method: str, fields: dict[str, Any]
) -> None:
    created = await _call(pbx, fake, group, method, fields)
    assert fake.counters.writes == 1
    if group == "ivrs":
        ivr = fake.ivr("8000") if method == "update" else await pbx.ivrs.get(created)
        got = ivr.model_dump(mode="json", by_alias=True)
        for key, value in fields.items():
            if key in ("custom_forward_rules",):
                [rule] = got[key]
                assert rule["user_input"] == "1"
                assert [h["id"] for h in rule["holidays"]] == value[0]["holidays"]
            elif isinstance(value, dict):
                assert {k: got[key][k] for k in value} == value
            elif isinstance(value, list) and value:
                assert [{k: g[k] for k in v} for g, v in zip(got[key], value, strict=True)] == value
            else:
                assert got[key] == value
    elif method == "create":
        url = await pbx.action_urls.get(fake.ivr("8000").id, created)
        assert url.url == fields["url"]
        assert url.connection_timeout == fields.get("connection_timeout", 2)


async def test_an_update_may_switch_auth_on_stored_credentials(
    pbx: PBXClient, fake: FakePBX
) -> None:
    # The credentials are on the PBX already; the update sends only what changes.
    ivr_id = fake.add_ivr("8000", "Main")
    stored = {**GOOD_URL, "username": "pbxhook1", "password": "s3cretpass"}
    url_id = fake.resources.create_action_url(ivr_id, stored)
    await pbx.action_urls.update(ivr_id, url_id, auth="BASIC")
    assert fake.action_urls("8000")[0].auth.value == "BASIC"
    with pytest.raises(InvalidArgumentError, match="username and password"):
        await pbx.action_urls.create(ivr_id, **GOOD_URL, auth="DIGEST")  # a create is whole
