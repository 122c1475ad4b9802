"""The fake PBX's list queries: filter, search, orderby (pure functions).

The filter operators are the ones PortSIP REST "About" (Query Options, Filter) documents:
eq, ne, gt, ge, lt, le, and, or, startswith, endswith, contains.
"""

from __future__ import annotations

from typing import Any

import pytest

from ivrhooks.fakepbx.query import QueryError, apply_query, parse_filter

ROWS: list[dict[str, Any]] = [
    {"id": "a", "name": "Main", "extension_number": "8000", "enabled": True, "size": 10},
    {"id": "b", "name": "Sales", "extension_number": "8001", "enabled": False, "size": 2},
    {"id": "c", "name": "O'Brien desk", "extension_number": "9000", "enabled": True},
]


@pytest.mark.parametrize(
    ("text", "ids"),
    [
        ("name eq 'Main'", "a"),
        ("name ne 'Main'", "bc"),
        ("enabled eq true", "ac"),
        ("enabled eq false or extension_number eq '9000'", "bc"),
        ("enabled eq true and startswith(extension_number,'8')", "a"),
        ("name eq 'O''Brien desk'", "c"),
        ("endswith(name, 'les') or contains(name,'Brien')", "bc"),
        ("(name eq 'Main' or name eq 'Sales') and enabled eq false", "b"),
        ("name eq 'Main' or name eq 'Sales' and enabled eq false", "ab"),  # and binds tighter
        # About: "caller gt '101'" and friends; text orders by code point, numbers by value.
        ("extension_number gt '8000'", "bc"),
        ("extension_number ge '8001'", "bc"),
        ("extension_number lt '8001'", "a"),
        ("extension_number le '8001'", "ab"),
        ("extension_number ge '8000' and extension_number lt '9000'", "ab"),
        ("size gt 3", "a"),  # numbers by value: 10 > 3 (as text, '10' < '3')
        ("size le 2", "b"),  # c has no size: a missing value is never ordered
        ("size gt '3'", ""),  # mixed types are false, not an error
        ("name lt 'N'", "a"),
    ],
)
def test_filters(text: str, ids: str) -> None:
    predicate = parse_filter(text)
    assert "".join(r["id"] for r in ROWS if predicate(r)) == ids


@pytest.mark.parametrize(
    "text",
    [
        "name",
        "name eq",
        "name like 'a'",
        "name gt",
        "(name eq 'a'",
        "name eq 'a' extra",
        "name eq 'open",
    ],
)
def test_bad_filters_name_the_parameter(text: str) -> None:
    with pytest.raises(QueryError, match=r"^filter: "):
        parse_filter(text)


def test_search_orderby_and_stability() -> None:
    found = apply_query(ROWS, filter=None, search="DESK", orderby=None, search_fields=("name",))
    assert [r["id"] for r in found] == ["c"]
    by_name = apply_query(ROWS, filter=None, search=None, orderby="name desc", search_fields=())
    assert [r["id"] for r in by_name] == ["b", "c", "a"]
    two_keys = apply_query(
        ROWS, filter=None, search=None, orderby="enabled asc, name desc", search_fields=()
    )
    assert [r["id"] for r in two_keys] == ["b", "c", "a"]
    with pytest.raises(QueryError, match=r"^orderby: "):
        apply_query(ROWS, filter=None, search=None, orderby="name up", search_fields=())
