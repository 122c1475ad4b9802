"""ivrhooks.events reads PortSIP's documented examples and every documented irregularity, and
never raises for a JSON object."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ivrhooks.errors import InvalidArgumentError
from ivrhooks.events import (
    CallCDR,
    CallStart,
    CallUpdateInfo,
    ExtensionEvent,
    RecordedDecision,
    TargetEvent,
    UnknownEvent,
    event_digest,
    parse_event,
)

HERE = Path(__file__).resolve().parent
#: PortSIP's own examples (the file says where from, and at which commit).
EXAMPLES: dict[str, dict[str, Any]] = json.loads((HERE / "portsip-examples.json").read_text())[
    "examples"
]


def test_the_documented_call_cdr_example() -> None:
    cdr = parse_event("cdr", EXAMPLES["call_cdr"])
    assert isinstance(cdr, CallCDR)
    assert (cdr.type, cdr.session_id, cdr.tenant_id) == (
        "call_cdr",
        "885337248273272832",
        "883611252155219968",
    )
    assert (cdr.call_status, cdr.status_code, cdr.direction, cdr.did) == (
        "answered",
        0,  # "0" at the top
        "inbound",
        "18800606",
    )
    # The example's callee_disconnect is the table's callee_disconnected.
    assert cdr.ended_reason == "callee_disconnected"
    assert (cdr.start_time, cdr.answered_time, cdr.ended_time) == (
        1725845648.0,
        1725845648.0,
        1725845669.0,
    )
    assert (cdr.ring_duration, cdr.talk_duration) == (0.0, 21.0)  # "0" and 21
    assert cdr.time == cdr.ended_time, "the example has no time: the end time stands in"
    assert cdr.cdr_id is None, "the example has no top-level cdr_id"
    assert cdr.outbound_caller_id is None and cdr.user_data is None  # "" is not given
    assert [t.target for t in cdr.targets] == ["5000", "8000", "102"]
    ivr, queue, agent = cdr.targets
    assert (queue.callee, queue.caller, queue.call_type) == ("8000", "1888722", "normal_call")
    assert (ivr.end_reason, ivr.status, ivr.status_code, ivr.talk_duration) == (
        "referred",
        "answered",
        0,
        7.0,  # "7" in the targets
    )
    assert ivr.cdr_id == "883611252155219968", "sent as id"
    assert ivr.destination == "sip:5000@192.168.1.93:8922"
    assert agent.end_reason is None, '"None" is PortSIP\'s unknown reason'
    assert (agent.ring_time, agent.answered_time, agent.ring_duration) == (
        1725845656.0,
        1725845662.0,
        6.0,
    )
    assert agent.cost is None and agent.direction is None  # in the table, not in the example
    assert cdr.raw == EXAMPLES["call_cdr"] and cdr.targets[0].raw["id"] == ivr.cdr_id
    assert cdr.decisions == () and cdr.attempt == 1


def test_the_documented_extension_messages() -> None:
    status = parse_event("extension", EXAMPLES["extension_status"])
    assert isinstance(status, ExtensionEvent) and status.type == "extension_status"
    assert [
        (s.extension, s.extension_id, s.call_status, s.online, s.presence) for s in status.states
    ] == [
        ("101", "794493219508322304", "ON_ACLL", False, "AWAY"),
        ("102", "794493219718037504", "ON_CALL", False, "ONLINE"),
    ]
    assert [s.time for s in status.states] == [1704186780.0, 1704186780.0]
    assert status.extension is None, "two extensions: none at the top"
    assert [s.availability for s in status.states] == ["offline", "offline"]

    call = parse_event("extension", EXAMPLES["extension_call"])
    assert isinstance(call, ExtensionEvent)
    assert (call.extension, call.extension_uri, call.call_status, call.time) == (
        "101",
        "sip:101@test.io",
        "ON_CALL",
        1703690276.0,
    )
    assert call.availability == "busy" and call.tenant_id == "792406615960584192"

    presence = parse_event("extension", EXAMPLES["extension_presence"])
    assert isinstance(presence, ExtensionEvent)
    assert (presence.presence, presence.presence_note, presence.availability) == (
        "AVAILABLE",
        "Driving",
        "available",
    )

    agent = parse_event("extension", EXAMPLES["extension_agent_status"])
    assert isinstance(agent, ExtensionEvent)
    assert [(a.queue_number, a.status) for a in agent.agent_status] == [("8002", "READY")]
    assert agent.extension == "102" and agent.extension_id == "806406815892897792"


# Bodies written from the event tables (PortSIP documents no example of these).
CALL_START = {
    "event_type": "call_start",
    "time": "1725845648",
    "session_id": "885337248273272832",
    "cdr_id": "883611252155219968",
    "direction": "inbound_outbound",
    "user_data": "crm-42",
    "call_id": "zw6DDIua5lyVCtcLsI1Gnw..",
    "caller_display_name": "Jason",
    "caller": "1888722",
    "callee_display_name": "Main",
    "callee": "5000",
    "tenant_id": "883611252155219968",
    "did": "18800606",
    "outbound_caller_id": "",
}
TARGET = {
    "event_type": "cdr_target_ringing",
    "time": "1725845656",
    "session_id": "885337248273272832",
    "cdr_id": "883611252155219968",
    "tenant_id": "883611252155219968",
    "direction": "internal",
    "destiantion": "sip:102@192.168.0.18:5066",
    "caller": "1888722",
    "did": "",
    "outbound_caller_id": "",
}


def test_call_start_and_update_from_the_tables() -> None:
    start = parse_event("cdr", CALL_START)
    assert isinstance(start, CallStart)
    assert (start.call_id, start.user_data, start.caller, start.callee, start.direction) == (
        "zw6DDIua5lyVCtcLsI1Gnw..",
        "crm-42",
        "1888722",
        "5000",
        "inbound_outbound",
    )
    assert (start.cdr_id, start.time, start.outbound_caller_id) == (
        "883611252155219968",
        1725845648.0,
        None,
    )
    update = parse_event("cdr", {**CALL_START, "event_type": "call_update_info"})
    assert type(update) is CallUpdateInfo
    assert (update.callee_display_name, update.caller_display_name) == ("Main", "Jason")


@pytest.mark.parametrize(
    "event_type",
    [
        "cdr_target_add",
        "cdr_target_ringing",
        "cdr_target_answer",
        "cdr_target_noanswer",
        "cdr_target_fail",
        "cdr_target_end",
    ],
)
def test_each_target_event_takes_its_step_from_its_type(event_type: str) -> None:
    event = parse_event("cdr", {**TARGET, "event_type": event_type})
    assert isinstance(event, TargetEvent)
    assert event.target_status == event_type.removeprefix("cdr_target_")
    assert (event.destination, event.target) == ("sip:102@192.168.0.18:5066", "102")


@pytest.mark.parametrize(
    ("change", "field", "expected"),
    [
        pytest.param({"status_code": 486}, "status_code", 486, id="integer"),
        pytest.param({"status_code": "486"}, "status_code", 486, id="string-integer"),
        pytest.param({"status_code": "busy"}, "status_code", None, id="not-a-number"),
        pytest.param({"talk_duration": "12"}, "talk_duration", 12.0, id="string-duration"),
        pytest.param({"talk_duration": 12}, "talk_duration", 12.0, id="integer-duration"),
        pytest.param({"start_time": 1725845648}, "start_time", 1725845648.0, id="integer-time"),
        pytest.param({"answered_time": "0"}, "answered_time", None, id="zero-time-is-none"),
        pytest.param({"answered_time": ""}, "answered_time", None, id="blank-time-is-none"),
        pytest.param({"direction": "ext"}, "direction", "internal", id="direction-ext"),
        pytest.param({"direction": "in"}, "direction", "inbound", id="direction-in"),
        pytest.param({"direction": "in2out"}, "direction", "inbound_outbound", id="in2out"),
        pytest.param({"direction": "out"}, "direction", "outbound", id="direction-out"),
        pytest.param({"direction": "OUTBOUND"}, "direction", "outbound", id="direction-case"),
        pytest.param({"direction": "sideways"}, "direction", None, id="direction-unknown"),
        pytest.param({"ended_reason": "None"}, "ended_reason", None, id="None-reason"),
        pytest.param({"ended_reason": "cancelled"}, "ended_reason", "cancelled", id="reason"),
        pytest.param(
            {"ended_reason": None, "end_reason": "referred"},
            "ended_reason",
            "referred",
            id="end_reason-spelling",
        ),
        pytest.param({"cdr_id": 883611}, "cdr_id", "883611", id="integer-id"),
        pytest.param({"id": "77"}, "cdr_id", "77", id="id-for-cdr_id"),
        pytest.param(
            {"session_id": 885337248273272832},
            "session_id",
            "885337248273272832",
            id="integer-session",
        ),
        pytest.param({"call_status": "ANSWERED"}, "call_status", "answered", id="status-case"),
        pytest.param({"call_status": "hung"}, "call_status", None, id="status-unknown"),
        pytest.param({"call_targets": "none"}, "targets", (), id="targets-not-a-list"),
        pytest.param({"call_targets": [1, "x", None]}, "targets", (), id="targets-not-objects"),
        pytest.param({"tenant_name": ["x"]}, "tenant_name", None, id="wrong-type"),
        pytest.param({"time": "1.5e9"}, "time", 1.5e9, id="float-string-time"),
    ],
)
def test_call_cdr_irregularities(change: dict[str, Any], field: str, expected: object) -> None:
    body = {**EXAMPLES["call_cdr"], **change}
    event = parse_event("cdr", body)
    assert isinstance(event, CallCDR)
    assert getattr(event, field) == expected


@pytest.mark.parametrize(
    ("change", "field", "expected"),
    [
        pytest.param({"cdr_id": "9", "id": "8"}, "cdr_id", "9", id="cdr_id-before-id"),
        pytest.param({"destination": None, "destiantion": "sip:7@h"}, "target", "7", id="sic"),
        pytest.param({"destination": "102"}, "target", "102", id="plain-number"),
        pytest.param({"destination": None}, "target", "102", id="callee-when-no-address"),
        pytest.param({"status_code": "0"}, "status_code", 0, id="string-code"),
        pytest.param(
            {"end_reason": None, "ended_reason": "cancelled"},
            "end_reason",
            "cancelled",
            id="ended_reason-spelling",
        ),
        pytest.param({"cost": "0.05"}, "cost", 0.05, id="string-cost"),
        pytest.param({"cost": 1}, "cost", 1.0, id="integer-cost"),
        pytest.param({"direction": "inbound"}, "direction", "inbound", id="direction"),
        pytest.param({"status": "fail"}, "status", "fail", id="fail-status"),
    ],
)
def test_call_target_irregularities(change: dict[str, Any], field: str, expected: object) -> None:
    agent = {**EXAMPLES["call_cdr"]["call_targets"][2], **change}
    event = parse_event("cdr", {**EXAMPLES["call_cdr"], "call_targets": [agent]})
    assert isinstance(event, CallCDR)
    assert getattr(event.targets[0], field) == expected


@pytest.mark.parametrize(
    ("kind", "body", "model", "event_type"),
    [
        pytest.param(
            "cdr",
            {"event_type": "call_parked", "session_id": 5},
            UnknownEvent,
            "call_parked",
            id="new-type",
        ),
        pytest.param("cdr", {"session_id": "5"}, UnknownEvent, "", id="no-type"),
        pytest.param("cdr", {"event_type": 7}, UnknownEvent, "", id="type-not-a-string"),
        pytest.param(
            "extension", {"event_type": "queue_status"}, UnknownEvent, "queue_status", id="queue"
        ),
        pytest.param(
            "extension",
            {"extension": "sip:103@x", "presence": "AWAY"},
            ExtensionEvent,
            "",
            id="extension-no-type",
        ),
        pytest.param("cdr", {"extension": "sip:103@x"}, UnknownEvent, "", id="cdr-no-type"),
        pytest.param(
            "extension", {"event_type": "call_cdr"}, CallCDR, "call_cdr", id="by-its-type"
        ),
        pytest.param("cdr", {}, UnknownEvent, "", id="empty"),
    ],
)
def test_what_is_not_documented_is_kept_not_refused(
    kind: Any, body: dict[str, Any], model: type, event_type: str
) -> None:
    event = parse_event(kind, body)
    assert type(event) is model and event.type == event_type and event.raw == body
    if isinstance(event, UnknownEvent):
        assert event.kind == kind


def test_unknown_extra_fields_are_kept_in_raw() -> None:
    event = parse_event("cdr", {**CALL_START, "queue_position": 3, "nested": {"a": [1]}})
    assert isinstance(event, CallStart) and event.caller == "1888722"
    assert event.raw["queue_position"] == 3 and event.raw["nested"] == {"a": [1]}


@pytest.mark.parametrize("body", [[], "call_start", 3, None, [{"event_type": "call_start"}]])
def test_a_body_that_is_not_an_object_is_a_value_error(body: Any) -> None:
    with pytest.raises(ValueError, match="must be a JSON object") as caught:
        parse_event("cdr", body)
    assert isinstance(caught.value, InvalidArgumentError)
    with pytest.raises(ValueError, match="JSON object"):
        event_digest("cdr", body)


def test_an_unknown_kind_is_refused() -> None:
    with pytest.raises(InvalidArgumentError, match="kind: must be 'cdr' or 'extension'"):
        parse_event("queue", {})  # type: ignore[arg-type]


# Any JSON value, in the documented fields and beside them.
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=12)
    | st.sampled_from(["None", "", "0", "sip:1@h", "ON_ACLL", "in2out", "nan", "1e400"]),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=12,
)
FIELDS = sorted(
    {key for example in EXAMPLES.values() for key in example}
    | {key for target in EXAMPLES["call_cdr"]["call_targets"] for key in target}
    | set(CALL_START)
    | set(TARGET)
    | {"end_reason", "destination", "id", "cost", "target_status", "extension_number"}
)
TYPES = st.sampled_from(
    [
        "call_start",
        "call_update_info",
        "cdr_target_end",
        "call_cdr",
        "extension_status",
        "extension_call",
        "extension_presence",
        "extension_agent_status",
        "made_up",
    ]
)


@given(
    kind=st.sampled_from(["cdr", "extension"]),
    event_type=TYPES | JSON,
    fields=st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=6), JSON, max_size=12),
    targets=st.lists(st.dictionaries(st.sampled_from(FIELDS), JSON, max_size=8) | JSON, max_size=3),
)
def test_any_json_object_parses(
    kind: Any, event_type: Any, fields: dict[str, Any], targets: list[Any]
) -> None:
    body = {**fields, "event_type": event_type, "call_targets": targets, "status": targets}
    event = parse_event(kind, body)
    assert event.raw == body and event.raw is not body, "a copy of the body"
    assert event.time is None or math.isfinite(event.time)
    assert event.direction in (None, "internal", "inbound", "outbound", "inbound_outbound")
    assert event.session_id is None or isinstance(event.session_id, str)
    if isinstance(event, CallCDR):
        assert all(t.status_code is None or isinstance(t.status_code, int) for t in event.targets)
    assert event_digest(kind, body) == event_digest(kind, dict(reversed(body.items())))


def test_the_digest_is_the_content_however_it_was_spelled() -> None:
    body = EXAMPLES["call_cdr"]
    respaced = json.loads(json.dumps(dict(reversed(body.items())), indent=4))
    digest = event_digest("cdr", body)
    assert digest == event_digest("cdr", respaced)
    assert len(digest) == 64 and int(digest, 16) >= 0
    assert digest != event_digest("extension", body), "the kind is part of it"
    assert digest != event_digest("cdr", {**body, "talk_duration": 22})
    # Canonical JSON (sorted keys, no whitespace) of kind and body, hashed with sha256.
    canonical = json.dumps({"body": body, "kind": "cdr"}, sort_keys=True, separators=(",", ":"))
    assert digest == hashlib.sha256(canonical.encode()).hexdigest()


def test_decisions_and_attempts_are_attached_by_replacing() -> None:
    cdr = parse_event("cdr", EXAMPLES["call_cdr"], attempt=2)
    assert isinstance(cdr, CallCDR) and cdr.attempt == 2
    decision = RecordedDecision(
        route="sales", action="call", destination="2001", at=1725845650.0, receptionist="5000"
    )
    decided = dataclasses.replace(cdr, decisions=(decision,))
    assert decided.decisions[0].cause is None and decided.targets == cdr.targets
    assert decided == dataclasses.replace(cdr, decisions=(decision,))
    assert hash(decision) == hash(dataclasses.replace(decision))
    with pytest.raises(dataclasses.FrozenInstanceError):
        decided.call_status = "fail"  # type: ignore[misc]
    for event in (
        parse_event("cdr", CALL_START),
        parse_event("extension", EXAMPLES["extension_call"]),
    ):
        assert event.attempt == 1


def test_reading_events_loads_no_framework() -> None:
    """Standard library only: the receiving endpoint parses on its hot path."""
    script = (
        "import json, sys, time\n"
        "import ivrhooks.events as events\n"
        "heavy = ('pydantic', 'starlette', 'httpx', 'click', 'redis', 'uvicorn')\n"
        "print(json.dumps(sorted(m for m in heavy if m in sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=HERE
    )
    assert json.loads(done.stdout) == []


def test_parsing_cost_is_printed() -> None:
    body, rounds = EXAMPLES["call_cdr"], 2000
    figures = {}
    for name, work in [
        ("parse_event", lambda: parse_event("cdr", body)),
        ("event_digest", lambda: event_digest("cdr", body)),
    ]:
        started = time.perf_counter()
        for _ in range(rounds):
            work()
        figures[name] = (time.perf_counter() - started) / rounds * 1e6
    print(
        "PortSIP's call_cdr example (3 targets): "
        + ", ".join(f"{k} {v:.1f} µs" for k, v in figures.items())
    )
    assert set(figures) == {"parse_event", "event_digest"}
