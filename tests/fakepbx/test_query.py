"""The fake PBX's list-query subset: filter, search, orderby (pure functions)."""

from __future__ import annotations

from typing import Any

import pytest

from ivrhooks.fakepbx.query import QueryError, apply_query, parse_filter

ROWS: list[dict[str, Any]] = [
    {"id": "a", "name": "Main", "extension_number": "8000", "enabled": True},
    {"id": "b", "name": "Sales", "extension_number": "8001", "enabled": False},
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
    ],
)
def test_filters(text: str, ids: str) -> None:
    predicate = parse_filter(text)
    assert "".join(r["id"] for r in ROWS if predicate(r)) == ids


@pytest.mark.parametrize(
    "text", ["name", "name eq", "name gt 'a'", "(name eq 'a'", "name eq 'a' extra", "name eq 'open"]
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
