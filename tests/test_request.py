"""Parsing what the PBX sends (portsip.md §1): query strings, JSON and form bodies."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ivrhooks import ActionRequest, InboundError
from ivrhooks.core.request import fields_from_body, fields_from_query


def test_query_string_fields_with_utf8_and_reserved_characters() -> None:
    fields = fields_from_query(
        b"session_id=12345678&from=101&to=888&input=22&from_name=J%C3%A9%2B%26&account_name=Sales"
    )
    assert fields == {
        "session_id": "12345678",
        "from": "101",
        "to": "888",
        "input": "22",
        "from_name": "Jé+&",
        "account_name": "Sales",
    }


@pytest.mark.parametrize(
    "body",
    [
        b'{"from": "101", "to": "8000", "input": "1"}',
        b'  {"from": "101", "to": "8000", "input": "1"}\n',
        b"from=101&to=8000&input=1",
        b'{"from": 101, "to": "8000", "input": "1"}',
    ],
    ids=["json", "json-whitespace", "form", "json-number-tolerated"],
)
def test_body_forms_accepted(body: bytes) -> None:
    fields = fields_from_body(body)
    assert (fields["from"], fields["to"], fields["input"]) == ("101", "8000", "1")


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"[1, 2]", 400),
        (b'"text"', 400),
        (b"123", 400),
        (b"{not json", 400),
        (b'{"from": {"nested": 1}}', 400),
        (b'{"from": true}', 400),
        (b'{"from": "1", "from": "2"}', 400),
        (b"from=1&from=2", 400),
        (b"from=%ff", 400),
        (b"[" * 5000, 400),
        (b"[" * 100_000, 400),
    ],
    ids=[
        "array",
        "string",
        "number",
        "bad-json",
        "nested",
        "bool",
        "dup-json",
        "dup-form",
        "bad-utf8",
        "deep-nesting",
        "huge-nesting",
    ],
)
def test_malformed_or_oversized_bodies_are_400(body: bytes, status: int) -> None:
    with pytest.raises(InboundError) as caught:
        fields_from_body(body)
    assert caught.value.status == status


def test_request_needs_from_and_to() -> None:
    with pytest.raises(InboundError, match="from"):
        ActionRequest.from_fields({"to": "8000"}, kind="DTMF", method="GET")
    with pytest.raises(InboundError, match="to"):
        ActionRequest.from_fields({"from": "101", "to": ""}, kind="DTMF", method="GET")


def test_request_maps_pbx_fields_to_names() -> None:
    req = ActionRequest.from_fields(
        {
            "from": "101",
            "to": "8000",
            "input": "3",
            "from_name": "Ann",
            "account_name": "Main",
            "x_new": "kept",
        },
        kind="DTMF",
        method="POST",
    )
    assert (req.caller, req.to, req.digits, req.caller_name, req.receptionist) == (
        "101",
        "8000",
        "3",
        "Ann",
        "Main",
    )
    assert req.session_id is None
    assert req.fields["x_new"] == "kept"


def _reference(body: bytes) -> dict[str, str] | None:
    """The exact parse: every pair seen, duplicates refused; None where it refuses the body."""
    import json

    from ivrhooks.core.request import _as_text, _unique

    try:
        data = json.loads(body, object_pairs_hook=_unique)
        return {key: _as_text(key, value) for key, value in data.items()}
    except InboundError:
        return None


_keys = st.sampled_from(["from", "to", "input", "from_name", 'a"b', "x\\y", "é"])
_values = st.one_of(st.text(max_size=6), st.integers(-5, 99))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(_keys, _values), min_size=1, max_size=6))
def test_fast_json_path_agrees_with_the_exact_parse(pairs: list[tuple[str, object]]) -> None:
    import json

    body = ("{" + ",".join(f"{json.dumps(k)}:{json.dumps(v)}" for k, v in pairs) + "}").encode()
    expected = _reference(body)
    if expected is None:
        with pytest.raises(InboundError):
            fields_from_body(body)
    else:
        assert fields_from_body(body) == expected
