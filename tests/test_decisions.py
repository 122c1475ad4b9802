"""Decisions and how they are rendered for the PBX (portsip.md §2)."""

from __future__ import annotations

import json

import pytest

from ivrhooks import Decision, InvalidDecisionError, call, hangup, repeat
from ivrhooks.core.decisions import coerce_decision


@pytest.mark.parametrize(
    ("decision", "expected"),
    [
        (call("2001"), {"status_code": 200, "action": "call", "destination": "2001"}),
        (call(2001), {"status_code": 200, "action": "call", "destination": "2001"}),
        (call("+4930123"), {"status_code": 200, "action": "call", "destination": "+4930123"}),
        (hangup(), {"status_code": 200, "action": "hangup"}),
        (repeat(), {"status_code": 200, "action": "repeat"}),
    ],
    ids=["call", "call-int", "call-plus", "hangup", "repeat"],
)
def test_rendered_body_is_the_documented_json(
    decision: Decision, expected: dict[str, object]
) -> None:
    assert json.loads(decision.body()) == expected
    assert decision.to_json() == expected


@pytest.mark.parametrize(
    "destination",
    ["", "abc", "12 34", '1"}', "+", "1" * 65, "1\n", True, None, 1.5],
    ids=[
        "empty",
        "letters",
        "space",
        "json-injection",
        "plus-only",
        "too-long",
        "newline",
        "bool",
        "none",
        "float",
    ],
)
def test_call_refuses_what_is_not_dialable(destination: object) -> None:
    with pytest.raises(InvalidDecisionError):
        call(destination)  # type: ignore[arg-type]


def test_a_decision_cannot_be_built_around_validation() -> None:
    with pytest.raises(InvalidDecisionError):
        Decision("call", "x")
    with pytest.raises(InvalidDecisionError):
        Decision("transfer")  # type: ignore[arg-type]
    with pytest.raises(InvalidDecisionError):
        Decision("hangup", "100")


def test_coerce_accepts_decisions_and_bare_numbers_only() -> None:
    assert coerce_decision("2002") == call("2002")
    assert coerce_decision(hangup()) is hangup()
    for bad in (None, 2002, {"action": "call"}, b"2002"):
        with pytest.raises(InvalidDecisionError):
            coerce_decision(bad)
