"""The fast query parser answers exactly what ``parse_qsl`` (plus the duplicate check) did."""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ivrhooks.core.request import fields_from_query
from ivrhooks.errors import InboundError


def reference(query: bytes) -> dict[str, str] | str:
    """The parser before the fast path, as a value: the fields, or the error message."""
    if not query:
        return {}
    try:
        pairs = parse_qsl(
            query.decode("ascii"),
            keep_blank_values=True,
            strict_parsing=False,
            errors="strict",
            max_num_fields=32,
        )
    except (UnicodeDecodeError, ValueError) as exc:
        return f"the query string is not valid: {type(exc).__name__}"
    fields: dict[str, str] = {}
    for key, value in pairs:
        if key in fields:
            return f"field {key!r} is given more than once"
        fields[key] = value
    return fields


def fast(query: bytes) -> dict[str, str] | str:
    try:
        return fields_from_query(query)
    except InboundError as exc:
        return str(exc)


@pytest.mark.parametrize(
    "query",
    [
        b"from=5551234&to=8000&input=1234",
        b"from_name=J%C3%BCrgen+M%C3%BCller&to=8000",
        b"a&b=&=c&&d=1=2",
        b"a=%ZZ&b=%",
        b"name=%FF",
        b"caf\xc3\xa9=1",
        b"a=1&a=2",
        b"a+b=1&a%20b=2",
        b"&".join(b"f%d=1" % i for i in range(32)),
        b"&".join(b"f%d=1" % i for i in range(31)),
        b"&" * 31,
    ],
    ids=[
        "plain",
        "utf8-and-plus",
        "blank-and-bare-names",
        "bad-escapes-kept",
        "non-utf8-escape",
        "non-ascii",
        "duplicate",
        "duplicate-after-unescape",
        "33-fields",
        "32-fields",
        "separators-only",
    ],
)
def test_known_cases(query: bytes) -> None:
    assert fast(query) == reference(query)


@given(st.lists(st.sampled_from(["a", "b", "=", "&", "+", "%", "2", "0", "C3", "A9", "FF", "é"])))
def test_same_answer_as_parse_qsl(parts: list[str]) -> None:
    query = "".join(parts).encode("utf-8")
    assert fast(query) == reference(query)


@given(st.binary(max_size=200))
def test_same_answer_on_any_bytes(query: bytes) -> None:
    assert fast(query) == reference(query)
