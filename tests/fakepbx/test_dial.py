"""FakePBX.dial fires action URLs exactly as PortSIP does (reference/portsip.md §1)."""

from __future__ import annotations

from typing import Any

import pytest

from ivrhooks.testing import FakePBX, free_port
from tests.fakepbx.conftest import PASSWORD, TOKEN, USER, Receiver

FIELDS = {"from", "to", "input", "from_name", "account_name", "session_id"}


@pytest.fixture
def fake() -> FakePBX:
    pbx = FakePBX()
    pbx.add_ivr("8000", "Main")
    return pbx


def add(fake: FakePBX, **fields: Any) -> str:
    body = {"name": "hook", "enabled": True, "type": "DTMF", "dtmf_mask": "1", **fields}
    return fake.resources.create_action_url(fake.ivr("8000").id, body)


async def test_get_sends_the_fields_in_the_query_string(fake: FakePBX, receiver: Receiver) -> None:
    url_id = add(fake, method="GET", url=f"{receiver.url}/hook/open")
    result = await fake.dial(to="8000", caller="101", digits="1", caller_name="Jason")
    [hit] = receiver.hits
    assert hit["method"] == "GET" and hit["json"] is None
    assert set(hit["query"]) == FIELDS
    assert {k: v for k, v in hit["query"].items() if k != "session_id"} == {
        "from": "101",
        "to": "8000",
        "input": "1",
        "from_name": "Jason",
        "account_name": "Main",
    }
    assert hit["query"]["session_id"]
    assert result.action_url is not None and result.action_url.id == url_id
    assert (result.status, result.action, result.destination, result.error) == (
        200,
        "call",
        "222",
        None,
    )
    assert result.decision == {"status_code": 200, "action": "call", "destination": "222"}
    assert 0 < result.latency < 2


async def test_post_sends_a_json_object_of_strings(fake: FakePBX, receiver: Receiver) -> None:
    add(fake, method="POST", url=f"{receiver.url}/hook/open")
    result = await fake.dial(to="8000", caller="101", digits="1")
    [hit] = receiver.hits
    assert hit["method"] == "POST" and hit["query"] == {}
    assert set(hit["json"]) == FIELDS
    assert all(isinstance(v, str) for v in hit["json"].values())
    assert (hit["json"]["input"], hit["json"]["from_name"]) == ("1", "")
    assert hit["headers"]["content-type"] == "application/json"
    assert result.status == 200


async def test_caller_urls_are_checked_first_with_empty_input(
    fake: FakePBX, receiver: Receiver
) -> None:
    add(fake, name="menu", dtmf_mask="1", url=f"{receiver.url}/hook/open")
    add(fake, name="vip", type="CALLER", caller_mask="100-199", url=f"{receiver.url}/hook/open")
    vip = await fake.dial(to="8000", caller="150", digits="1")
    menu = await fake.dial(to="8000", caller="250", digits="1")
    assert vip.action_url is not None and vip.action_url.name == "vip"
    assert menu.action_url is not None and menu.action_url.name == "menu"
    assert [h["query"]["input"] for h in receiver.hits] == ["", "1"]


async def test_nothing_matches_nothing_is_sent(fake: FakePBX, receiver: Receiver) -> None:
    add(fake, dtmf_mask="3000-4000", url=f"{receiver.url}/hook/open")
    add(fake, enabled=False, dtmf_mask="2", url=f"{receiver.url}/hook/open")  # disabled
    add(fake, type="CALLER", caller_mask="101", url=f"{receiver.url}/hook/open", enabled=False)
    for digits in ("2", "4001", ""):
        result = await fake.dial(to="8000", caller="101", digits=digits)
        assert (result.matched, result.status, result.decision, result.action) == (
            False,
            None,
            None,
            None,
        )
    assert receiver.hits == []


async def test_action_urls_are_disabled_by_default(fake: FakePBX, receiver: Receiver) -> None:
    ivr_id = fake.ivr("8000").id
    fake.resources.create_action_url(ivr_id, {"dtmf_mask": "1", "url": f"{receiver.url}/hook/open"})
    assert not (await fake.dial(to="8000", caller="101", digits="1")).matched


@pytest.mark.parametrize(
    ("auth", "path", "creds"),
    [
        ("BASIC", "basic", {"username": USER, "password": PASSWORD}),
        ("DIGEST", "digest", {"username": USER, "password": PASSWORD}),
        ("BEARER", "bearer", {"token": TOKEN}),
    ],
)
@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_auth_schemes(
    fake: FakePBX, receiver: Receiver, auth: str, path: str, creds: dict[str, str], method: str
) -> None:
    add(fake, auth=auth, method=method, url=f"{receiver.url}/hook/{path}", **creds)
    result = await fake.dial(to="8000", caller="101", digits="1")
    assert (result.status, result.error, result.action) == (200, None, "call")


@pytest.mark.parametrize(
    ("auth", "path", "creds"),
    [
        ("BASIC", "basic", {"username": USER, "password": "wrongpass1"}),
        ("DIGEST", "digest", {"username": USER, "password": "wrongpass1"}),
        ("BEARER", "bearer", {"token": "other"}),
        ("DISABLE", "basic", {}),
    ],
)
async def test_wrong_credentials_are_refused(
    fake: FakePBX, receiver: Receiver, auth: str, path: str, creds: dict[str, str]
) -> None:
    add(fake, auth=auth, url=f"{receiver.url}/hook/{path}", **creds)
    result = await fake.dial(to="8000", caller="101", digits="1")
    assert result.status == 401
    assert result.decision is None and result.error is not None


async def test_extra_headers(fake: FakePBX, receiver: Receiver) -> None:
    add(fake, headers="X-Tenant:acme&X-Env: test", url=f"{receiver.url}/hook/open")
    await fake.dial(to="8000", caller="101", digits="1")
    [hit] = receiver.hits
    assert (hit["headers"]["x-tenant"], hit["headers"]["x-env"]) == ("acme", "test")


async def test_request_timeout(fake: FakePBX, receiver: Receiver) -> None:
    add(fake, request_timeout=1, url=f"{receiver.url}/hook/slow")
    result = await fake.dial(to="8000", caller="101", digits="1")
    assert (result.error, result.status) == ("timeout", None)
    assert 0.9 < result.latency < 2.5
    assert len(receiver.hits) == 1  # it was sent; the answer never came in time


async def test_connection_refused(fake: FakePBX) -> None:
    add(fake, url=f"http://127.0.0.1:{free_port()}/hook")
    result = await fake.dial(to="8000", caller="101", digits="1")
    assert result.error is not None and result.error.startswith("connection refused")
    assert result.status is None


async def test_invalid_json_answer(fake: FakePBX, receiver: Receiver) -> None:
    add(fake, url=f"{receiver.url}/hook/badjson")
    result = await fake.dial(to="8000", caller="101", digits="1")
    assert (result.status, result.error, result.decision) == (200, "invalid JSON", None)


async def test_session_ids_are_unique(fake: FakePBX, receiver: Receiver) -> None:
    add(fake, url=f"{receiver.url}/hook/open")
    for _ in range(5):
        await fake.dial(to="8000", caller="101", digits="1")
    assert len({h["query"]["session_id"] for h in receiver.hits}) == 5


async def test_unknown_receptionist_is_a_lookup_error(fake: FakePBX) -> None:
    with pytest.raises(LookupError, match="9999"):
        await fake.dial(to="9999", caller="101", digits="1")
