"""Property: bodies generated from the document's own schema, sent through ``PBXClient``.

Hypothesis draws action-URL bodies (``createActionUrl``) and receptionist bodies (``createVr``)
from strategies read off the published request schemas, with values on both sides of every
bound. For each one:

- a body the document refuses is never sent: the client raises ``InvalidArgumentError``;
- what the client does send conforms to the document, and so does the fake's answer (201, or
  a 422 for a rule only the PBX can check, such as the mask grammar or the PIN policy).
"""

from __future__ import annotations

import json
import string
from collections.abc import AsyncIterator
from typing import Any

import pytest
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st

from ivrhooks.errors import InvalidArgumentError
from ivrhooks.pbx import PBXClient, PBXValidationError
from ivrhooks.testing import FakePBX
from tests.conformance.boundaries import INT32, merged
from tests.conformance.capture import Exchange
from tests.conformance.conftest import SPEC, Wire

ALPHABETS = {
    "username": "abcxyz019A_",
    "password": "abcxyz019A_",
    "dtmf_mask": "0123456789;-*",
    "caller_mask": "0123456789;-*+",
    "extension_number": "0123456789a",
    "pin": "0123456789a",
}


def _string(leaf: str, schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    if "enum" in schema:
        return st.sampled_from([*schema["enum"], "OTHER"])
    low, high = schema.get("minLength", 0), schema.get("maxLength")
    size = {"min_size": max(0, low - 1), "max_size": (high + 1) if high is not None else 12}
    if leaf == "url":
        path = st.text(alphabet=string.ascii_lowercase, min_size=0, max_size=(high or 130))
        return st.one_of(st.just(""), path.map(lambda p: ("http://h/" + p)[: (high or 128) + 1]))
    return st.text(alphabet=ALPHABETS.get(leaf, string.ascii_letters + "-:&"), **size)


def strategy(leaf: str, schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values for one schema: mostly of its type, around its bounds, sometimes the wrong type."""
    schema = merged(schema)
    kind = schema.get("type")
    if kind == "string":
        typed = _string(leaf, schema)
    elif kind == "integer":
        int32 = schema.get("format") == "int32"
        low = schema.get("minimum", INT32[0] if int32 else -5)
        high = schema.get("maximum", INT32[1] if int32 else 100)
        typed = st.one_of(
            st.integers(low - 1, min(low + 3, high + 1)), st.integers(high - 1, high + 1)
        )
    elif kind == "boolean":
        typed = st.booleans()
    elif kind == "object":
        properties = schema.get("properties", {})
        typed = st.fixed_dictionaries(
            {}, optional={name: strategy(name, sub) for name, sub in properties.items()}
        )
    elif kind == "array":
        typed = st.lists(strategy(leaf, schema.get("items", {})), max_size=2)
    else:
        typed = st.none()
    wrong: st.SearchStrategy[Any] = st.sampled_from([None, "2", 2, True, [], {}])
    return st.one_of(typed, typed, typed, wrong)


def _body_strategy(operation_id: str, required: dict[str, Any]) -> st.SearchStrategy[Any]:
    operation = next(op for op in SPEC.operations if op.id == operation_id)
    schema = operation.spec["requestBody"]["content"]["application/json"]["schema"]
    properties = merged(schema)["properties"]
    optional = {name: strategy(name, sub) for name, sub in properties.items()}
    fixed = {name: st.one_of(st.just(value), optional[name]) for name, value in required.items()}
    return st.fixed_dictionaries(
        fixed, optional={k: v for k, v in optional.items() if k not in required}
    )


def _conforms(operation_path: str, body: dict[str, Any]) -> bool:
    exchange = Exchange(
        "client",
        "POST",
        "/api" + operation_path,
        [],
        {"authorization": "Bearer t", "content-type": "application/json"},
        json.dumps(body).encode(),
    )
    return SPEC.request_violations(exchange) == []


SETTINGS = settings(
    max_examples=120,
    deadline=None,
    derandomize=True,  # the same examples in CI as here
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
async def client(wire: Wire, fake: FakePBX) -> AsyncIterator[PBXClient]:
    fake.add_ivr("7000", "Shared")
    async with wire.client(fake) as pbx:
        yield pbx


async def _send(
    wire: Wire, fake: FakePBX, client: PBXClient, operation: str, body: dict[str, Any]
) -> None:
    ivr_id = fake.ivr("7000").id
    path = "/ivrs" if operation == "createVr" else f"/ivrs/{ivr_id}/action_urls"
    conforms = _conforms(path, body)
    recorded = wire.client_side[0].exchanges
    start = len(recorded)
    try:
        if operation == "createVr":
            await client.ivrs.create(**body)
        else:
            await client.action_urls.create(ivr_id, **body)
    except (InvalidArgumentError, PBXValidationError):
        pass  # refused here, or by a rule only the PBX checks (a 422, checked below)
    sent = [e for e in recorded[start:] if e.method == "POST"]
    assert conforms or not sent, "the client sent a body the document refuses"
    for exchange in recorded[start:]:
        assert SPEC.violations(exchange) == []


@SETTINGS
@given(body=_body_strategy("createActionUrl", {"url": "http://127.0.0.1:9/hook"}))
async def test_generated_action_urls_never_break_the_document(
    wire: Wire, fake: FakePBX, client: PBXClient, body: dict[str, Any]
) -> None:
    await _send(wire, fake, client, "createActionUrl", body)


@SETTINGS
@given(body=_body_strategy("createVr", {"name": "R", "extension_number": "8100", "pin": "582046"}))
async def test_generated_receptionists_never_break_the_document(
    wire: Wire, fake: FakePBX, client: PBXClient, body: dict[str, Any]
) -> None:
    await _send(wire, fake, client, "createVr", body)


@pytest.mark.parametrize(
    ("operation", "path", "required"),
    [
        ("createActionUrl", "/ivrs/i/action_urls", {"url": "http://127.0.0.1:9/hook"}),
        ("createVr", "/ivrs", {"name": "R", "extension_number": "8100", "pin": "582046"}),
    ],
)
@pytest.mark.parametrize("conforming", [True, False], ids=["conforming", "refused"])
def test_the_strategies_reach_both_sides_of_the_line(
    operation: str, path: str, required: dict[str, Any], conforming: bool
) -> None:
    # A strategy that only ever drew valid (or only invalid) bodies would prove little.
    found = find(
        _body_strategy(operation, required),
        lambda body: _conforms(path, body) is conforming,
        settings=settings(database=None, derandomize=True),
    )
    assert _conforms(path, found) is conforming
