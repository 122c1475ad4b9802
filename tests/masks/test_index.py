"""MaskIndex: routes by mask for one (receptionist, kind), lookups and refused overlaps."""

from __future__ import annotations

import re

import pytest

from ivrhooks.core.masks import Kind, MaskIndex, parse_mask
from ivrhooks.errors import MaskError, RouteConflictError
from tests.masks.helpers import matching_entry

ROUTES = {
    "support": "1;2;3",
    "sales": "3000-3999",
    "branch": "55*1",
    "region": "86**********",
    "vip": "6000-6099;7000-7099",
}


def _index(kind: Kind = "CALLER") -> MaskIndex[str]:
    index: MaskIndex[str] = MaskIndex(kind)
    for name, text in ROUTES.items():
        index.add(parse_mask(text, kind), name)
    return index


# (input, expected route, expected entry) or None
LOOKUPS: list[tuple[str, tuple[str, str] | None]] = [
    ("2", ("support", "2")),
    ("3500", ("sales", "3000-3999")),
    ("+3500", ("sales", "3000-3999")),
    ("5501", ("branch", "55*1")),
    ("861381234567", ("region", "86**********")),
    ("+861381234567", ("region", "86**********")),
    ("6050", ("vip", "6000-6099")),
    ("6100", None),
    ("4", None),
    ("", None),
    ("35OO", None),
    ("03500", None),
]


@pytest.mark.parametrize(("value", "expected"), LOOKUPS, ids=[repr(v) for v, _ in LOOKUPS])
def test_lookup(value: str, expected: tuple[str, str] | None) -> None:
    assert _index().lookup(value) == expected


def test_len_counts_entries() -> None:
    assert len(_index()) == 8
    assert len(MaskIndex[str]("DTMF")) == 0


# (new mask, route it collides with); every one of these shares an input with ROUTES
CONFLICTS: list[tuple[str, str]] = [
    ("2", "support"),
    ("0-3", "support"),
    ("*", "support"),
    ("3999", "sales"),
    ("3999-4100", "sales"),
    ("2000-3000", "sales"),
    ("3**9", "sales"),
    ("5591", "branch"),
    ("5*01", "branch"),
    ("5500-5510", "branch"),
    ("****", "sales"),
    ("861380000000-861380000009", "region"),
    ("**1*********", "region"),
    ("7;6099", "vip"),
    ("5***", "branch"),
    ("7***", "vip"),
]


@pytest.mark.parametrize(("text", "owner"), CONFLICTS, ids=[t for t, _ in CONFLICTS])
def test_conflict_names_the_route_and_a_shared_input(text: str, owner: str) -> None:
    index = _index()
    mask = parse_mask(text, "CALLER")
    found = index.conflict(mask)
    assert found is not None
    route, witness = found
    assert mask.matches(witness)
    assert parse_mask(ROUTES[route], "CALLER").matches(witness)
    if text != "****":  # collides with two routes; any one will do
        assert route == owner
    before = len(index)
    with pytest.raises(RouteConflictError, match=re.escape(repr(text))) as caught:
        index.add(mask, "new")
    assert repr(ROUTES[route]) in str(caught.value)
    assert repr(witness) in str(caught.value)
    assert len(index) == before  # a refused route changes nothing
    assert index.lookup(witness) == (
        route,
        matching_entry(parse_mask(ROUTES[route], "CALLER"), witness),
    )


FREE = ["4", "10-99", "4000-4999", "5502", "5*02", "86*********", "6100-6199", "7*;8*", "*0*"]


@pytest.mark.parametrize("text", FREE, ids=FREE)
def test_disjoint_masks_are_added_and_found(text: str) -> None:
    index = _index()
    mask = parse_mask(text, "CALLER")
    assert index.conflict(mask) is None
    index.add(mask, "new")
    assert index.lookup(mask.example()) == ("new", matching_entry(mask, mask.example()))


def test_all_is_the_default_and_conflicts_with_any_other_route() -> None:
    index: MaskIndex[str] = MaskIndex("DTMF")
    index.add(parse_mask("ALL", "DTMF"), "operator")
    assert index.lookup("#") == ("operator", "ALL")
    assert index.lookup("123") == ("operator", "ALL")
    assert index.lookup("") is None
    assert index.conflict(parse_mask("9", "DTMF")) == ("operator", "9")
    with pytest.raises(RouteConflictError, match="'ALL'"):
        index.add(parse_mask("9", "DTMF"), "nine")


def test_all_conflicts_with_an_existing_route() -> None:
    index: MaskIndex[int] = MaskIndex("DTMF")
    index.add(parse_mask("3000-4000", "DTMF"), 1)
    assert index.conflict(parse_mask("ALL", "DTMF")) == (1, "3000")


def test_dtmf_index_does_not_strip_plus() -> None:
    index: MaskIndex[str] = MaskIndex("DTMF")
    index.add(parse_mask("101", "DTMF"), "a")
    assert index.lookup("101") == ("a", "101")
    assert index.lookup("+101") is None


def test_the_same_mask_twice_conflicts() -> None:
    index: MaskIndex[str] = MaskIndex("DTMF")
    index.add(parse_mask("1;2", "DTMF"), "a")
    assert index.conflict(parse_mask("1;2", "DTMF")) == ("a", "1")


def test_kind_mismatch_is_refused() -> None:
    index: MaskIndex[str] = MaskIndex("DTMF")
    with pytest.raises(MaskError, match="CALLER mask cannot join an index of DTMF"):
        index.add(parse_mask("101", "CALLER"), "a")
    with pytest.raises(MaskError, match="'DTMF' or 'CALLER'"):
        MaskIndex("SMS")  # type: ignore[arg-type]
    assert len(index) == 0


def test_many_routes_stay_findable() -> None:
    index: MaskIndex[int] = MaskIndex("DTMF")
    for n in range(1000):
        index.add(parse_mask(f"{n:04d}0-{n:04d}4", "DTMF"), n)  # 5-digit ranges
        index.add(parse_mask(f"{n:04d}5", "DTMF"), -n)  # exacts between them
        index.add(parse_mask(f"{n:03d}*7*", "DTMF"), n + 10_000)  # 6-digit patterns
    assert len(index) == 3000
    assert index.lookup("04213") == (421, "04210-04214")
    assert index.lookup("04215") == (-421, "04215")
    assert index.lookup("04216") is None
    assert index.lookup("421373") == (10_421, "421*7*")
    assert index.lookup("421383") is None
