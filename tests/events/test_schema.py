"""The JSON Schema written from PortSIP's event reference: PortSIP's own examples and every event
the fake PBX sends (duplicates included) satisfy it, and parse into their models."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from ivrhooks.events import UnknownEvent, event_digest, parse_event
from ivrhooks.fakepbx.webhooks import EventFaults
from tests.events.receiver import fake_pbx, receiving

HERE = Path(__file__).resolve().parent
SCHEMA = json.loads((HERE / "portsip-events.schema.json").read_text())
EXAMPLES: dict[str, dict[str, Any]] = json.loads((HERE / "portsip-examples.json").read_text())[
    "examples"
]
VALIDATOR = Draft202012Validator(SCHEMA)


def _errors(body: Any, definition: str | None = None) -> list[str]:
    validator = VALIDATOR
    if definition is not None:
        validator = Draft202012Validator({"$ref": f"#/$defs/{definition}", **SCHEMA})
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(body)]


def test_the_schema_is_a_2020_12_schema() -> None:
    Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_portsip_examples_satisfy_the_schema_and_parse(name: str) -> None:
    body = EXAMPLES[name]
    assert _errors(body) == []
    assert _errors(body, name) == []
    event = parse_event("cdr" if name == "call_cdr" else "extension", body)
    assert event.type == name and not isinstance(event, UnknownEvent)


CDR = EXAMPLES["call_cdr"]
TARGET = CDR["call_targets"][0]


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({k: v for k, v in CDR.items() if k != "call_status"}, id="no-call_status"),
        pytest.param({**CDR, "call_status": "ok"}, id="unknown-call_status"),
        pytest.param({**CDR, "status_code": "4xx"}, id="status_code-not-a-number"),
        pytest.param({**CDR, "direction": "sideways"}, id="unknown-direction"),
        pytest.param({**CDR, "start_time": "2024-09-09"}, id="time-not-unix-seconds"),
        pytest.param(
            {k: v for k, v in CDR.items() if k != "ended_reason"}, id="neither-reason-spelling"
        ),
        pytest.param(
            {**CDR, "call_targets": [{k: v for k, v in TARGET.items() if k != "id"}]},
            id="target-without-id",
        ),
        pytest.param(
            {**CDR, "call_targets": [{**TARGET, "destination": "5000"}]}, id="not-a-sip-uri"
        ),
        pytest.param(
            {
                "event_type": "cdr_target_add",
                "time": "1",
                "session_id": "1",
                "tenant_id": "1",
                "cdr_id": "1",
                "direction": "inbound",
                "did": "",
                "outbound_caller_id": "",
                "caller": "101",
            },
            id="target-event-without-address",
        ),
        pytest.param({**EXAMPLES["extension_call"], "call_status": "TALKING"}, id="call_status"),
        pytest.param({**EXAMPLES["extension_call"], "extension": "101"}, id="extension-uri"),
        pytest.param({"event_type": "call_parked"}, id="undocumented-type"),
    ],
)
def test_the_schema_refuses_what_portsip_does_not_document(body: dict[str, Any]) -> None:
    assert _errors(body) != []


async def test_every_event_the_fake_sends_satisfies_the_schema() -> None:
    """Every outcome (answered, busy, offline, no answer, hung up at the receptionist, a
    forward between receptionists), an inbound and an internal caller, an extension's state and
    presence; every event duplicated."""
    async with receiving() as receiver:
        pbx = fake_pbx(receiver, event_faults=EventFaults(duplicate=1.0))
        pbx.set_event_url("cdr", receiver.url + "/events/cdr")
        pbx.set_event_url("extension", receiver.url + "/events/extension")
        for digits in "12345":
            await pbx.dial("8000", "101", digits, "Desk 101")
        await pbx.call("8000", "+4930123456", ["6", "1"])
        await pbx.call("8000", "0301234567", ["6", "4"])
        pbx.set_extension("2005", "offline")
        pbx.set_extension("2005", presence="DO_NOT_DISTURB")
        sent = await pbx.events_sent()

    assert receiver.hits and all(h.status == 200 for h in receiver.hits)
    problems = {
        f"{hit.body.get('event_type')}: {error}"
        for hit in receiver.hits
        for error in _errors(hit.body)
    }
    assert problems == set()
    types = Counter(h.body["event_type"] for h in receiver.hits)
    assert set(types) == {
        "call_start",
        "call_update_info",
        "cdr_target_add",
        "cdr_target_ringing",
        "cdr_target_answer",
        "cdr_target_noanswer",
        "cdr_target_fail",
        "cdr_target_end",
        "call_cdr",
        "extension_call",
        "extension_status",
        "extension_presence",
    }
    print(f"{len(receiver.hits)} events received: {dict(types)}")
    # Duplicates: each body came twice, the second flagged as the copy. (Two extension_call
    # messages of two calls can be one content: same extension, status and second.)
    digests = Counter(event_digest(h.kind, h.body) for h in receiver.hits)  # type: ignore[arg-type]
    assert all(count % 2 == 0 for count in digests.values()) and 2 in digests.values()
    assert sum(s.copy for s in sent) == len(sent) // 2
    for hit in receiver.hits:
        event = parse_event(hit.kind, hit.body)  # type: ignore[arg-type]
        assert not isinstance(event, UnknownEvent) and event.type == hit.body["event_type"]
        assert event.tenant_id == pbx.tenant["id"]
