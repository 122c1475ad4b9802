"""Boundary cases derived from the published request schemas, field by field.

For every property of every write operation (nested forward rules, office hours and caller ids
included) the cases are read off its schema: the values at ``minLength``/``maxLength`` and
``minimum``/``maximum`` (``int32`` bounds where the format says so) and just outside them, every
``enum`` value and one that is not, and JSON of the wrong type: a string for an integer,
``"yes"`` and ``1`` for a boolean, ``null`` for anything. Strings are filled with characters
ivrhooks' own rules accept (digits for a PIN, ``[a-z0-9]`` for credentials, a URL for ``url``),
so a valid case is valid for ivrhooks too; see ``quirks.py`` for where ivrhooks is stricter.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from tests.conformance.spec import Spec

__all__ = ["BASE_BODIES", "Case", "cases", "merged", "with_value"]

INT32 = (-(2**31), 2**31 - 1)
Kind = Literal["valid", "constraint", "type"]

# A valid body to which each case adds its one field (creates need their required fields; the
# action URL carries credentials so that every ``auth`` value is valid).
BASE_BODIES: dict[str, dict[str, Any]] = {
    "createVrServer": {"name": "media", "ipv4": "10.0.0.9"},
    "updateVrServer": {},
    "createVr": {"name": "R", "pin": "582046"},  # extension_number: a fresh one per case
    "updateVr": {},
    "createActionUrl": {
        "name": "n",
        "type": "DTMF",
        "dtmf_mask": "1",
        "url": "http://127.0.0.1:9/hook",
        "username": "abcdef",
        "password": "abcdef",
        "token": "t0k3n",
    },
    "updateActionUrl": {},
    "signInWithCredentials": {"username": "admin", "password": "fakepbx"},
}

_FILL = {
    "extension_number": "8",
    "username": "a",
    "password": "a",
    "dtmf_mask": "1",
    "caller_mask": "1",
    "caller_id": "4",
}
_SAMPLE = {
    "headers": "X-A:1",
    "token": "t0k3n",
    "language": "en-US",
    "ipv4": "10.0.0.9",
    "ipv6": "::1",
    "number": "101",
    "user_input": "1",
    "from": "09:00",
    "to": "17:00",
    "url": "http://127.0.0.1:9/hook",
    "password": "fakepbx",
}


@dataclass(frozen=True)
class Case:
    operation: str  # operationId
    field: str  # dotted, list items as 0: custom_forward_rules.0.office_hours.mode
    rule: str  # what the value probes: maxLength+1, minimum, enum:HANGUP, type, null
    value: Any
    kind: Kind  # valid; invalid by a constraint (length, range, enum, null); by JSON type

    @property
    def id(self) -> str:
        return f"{self.operation}.{self.field}:{self.rule}"

    @property
    def valid(self) -> bool:
        return self.kind == "valid"


def merged(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with its ``allOf`` folded in (properties merged, later keywords winning)."""
    out = {k: v for k, v in schema.items() if k != "allOf"}
    for part in schema.get("allOf", []):
        part = merged(part)
        properties = {**out.get("properties", {}), **part.get("properties", {})}
        out = {**out, **part}
        if properties:
            out["properties"] = properties
    return out


def _text(leaf: str, length: int | None = None) -> str:
    if leaf == "pin":
        digits = "58204613579753"  # no digit thrice, no three ascending: PortSIP's PIN policy
        return digits[: length if length is not None else 6]
    if leaf == "url" and length is not None and length >= 10:
        return "http://h/" + "a" * (length - 9)
    if length is None:
        return _SAMPLE.get(leaf, _FILL.get(leaf, "x") * 3)
    return _FILL.get(leaf, "x" if leaf != "url" else "a") * length


def _field(operation: str, path: str, schema: dict[str, Any]) -> Iterator[Case]:
    schema = merged(schema)
    leaf = path.rsplit(".", 1)[-1]
    kind = schema.get("type")

    def case(rule: str, value: Any, k: Kind) -> Case:
        return Case(operation, path, rule, value, k)

    yield case("null", None, "constraint")  # no request schema allows null
    if kind == "string":
        if "enum" in schema:
            yield from (case(f"enum:{v}", v, "valid") for v in schema["enum"])
            yield case("enum:other", "NOT_IN_ENUM", "constraint")
        else:
            low, high = schema.get("minLength"), schema.get("maxLength")
            if low:
                yield case("minLength", _text(leaf, low), "valid")
                yield case("minLength-1", _text(leaf, low - 1), "constraint")
            if high is not None:
                yield case("maxLength", _text(leaf, high), "valid")
                yield case("maxLength+1", _text(leaf, high + 1), "constraint")
            if not low and high is None:
                yield case("sample", _text(leaf), "valid")
        yield case("type", 12345, "type")
    elif kind == "integer":
        int32 = schema.get("format") == "int32"
        low = schema.get("minimum", INT32[0] if int32 else None)
        high = schema.get("maximum", INT32[1] if int32 else None)
        if low is not None:
            yield case("minimum", low, "valid")
            yield case("minimum-1", low - 1, "constraint")
        if high is not None:
            yield case("maximum", high, "valid")
            yield case("maximum+1", high + 1, "constraint")
        if low is None and high is None:
            yield case("sample", 7, "valid")
        yield case("type:text", "2", "type")
        yield case("type:fraction", 2.5, "type")
    elif kind == "boolean":
        yield case("true", True, "valid")
        yield case("false", False, "valid")
        yield case("type:yes", "yes", "type")
        yield case("type:1", 1, "type")
    elif kind == "object":
        yield case("type", "text", "type")
        for name, sub in schema.get("properties", {}).items():
            yield from _field(operation, f"{path}.{name}", sub)
    elif kind == "array":
        yield case("empty", [], "valid")
        yield case("type", {"a": 1}, "type")
        yield from _field(operation, f"{path}.0", schema.get("items", {}))


def with_value(base: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of ``base`` with ``value`` at the dotted ``path`` (creating dicts and lists)."""
    body = copy.deepcopy(base)
    parts = path.split(".")
    node: Any = body
    for part, after in itertools.pairwise(parts):
        key: Any = int(part) if isinstance(node, list) else part
        fresh: Any = [] if after.isdigit() else {}
        if isinstance(node, list):
            while len(node) <= key:
                node.append(fresh)
            node = node[key]
        else:
            node = node.setdefault(key, fresh)
    last = parts[-1]
    if isinstance(node, list):
        node.append(value)
    else:
        node[last] = value
    return body


def cases(spec: Spec, operation_id: str) -> list[Case]:
    """Every boundary case of one operation's request body, in schema order."""
    operation = next(op for op in spec.operations if op.id == operation_id)
    body = operation.spec["requestBody"]["content"]["application/json"]["schema"]
    found: dict[str, Case] = {}
    for name, sub in merged(body).get("properties", {}).items():
        for case in _field(operation_id, name, sub):
            found.setdefault(case.id, case)
    return list(found.values())
