"""The fast matcher and the overlap checks against a plain scanning reference.

Entries are kept to 1..3 digits so that overlaps are frequent and "no shared input" can be
checked exhaustively over every input of those widths.
"""

from __future__ import annotations

from itertools import product

from hypothesis import given, settings
from hypothesis import strategies as st

from ivrhooks.core.masks import Kind, Mask, MaskIndex, parse_mask
from ivrhooks.errors import MaskError, RouteConflictError
from tests.masks.helpers import matching_entry

MAX_WIDTH = 3
INPUTS_OF_WIDTH = {
    w: ["".join(p) for p in product("0123456789", repeat=w)] for w in range(1, MAX_WIDTH + 1)
}


# --- the reference: scan every entry, the obvious way -------------------------------------
def ref_entry_matches(entry: str, kind: Kind, value: str) -> bool:
    if kind == "CALLER" and value.startswith("+"):
        value = value[1:]
    if entry == "ALL":
        return value != ""
    if not (value.isascii() and value.isdigit()):
        return False
    if "-" in entry:
        lo, hi = entry.split("-")
        return len(value) == len(lo) and lo <= value <= hi
    return len(value) == len(entry) and all(
        e in ("*", v) for e, v in zip(entry, value, strict=True)
    )


def ref_matching_entry(entries: list[str], kind: Kind, value: str) -> str | None:
    return next((e for e in entries if ref_entry_matches(e, kind, value)), None)


def ref_widths(entries: list[str]) -> set[int]:
    if "ALL" in entries:
        return set(INPUTS_OF_WIDTH)
    return {len(e.split("-")[0]) for e in entries}


def ref_overlap(a: list[str], b: list[str], kind: Kind) -> bool:
    """Whether some input of width 1..MAX_WIDTH matches both (every one is tried)."""
    return any(
        ref_matching_entry(a, kind, v) and ref_matching_entry(b, kind, v)
        for w in ref_widths(a) & ref_widths(b)
        for v in INPUTS_OF_WIDTH[w]
    )


# --- strategies ----------------------------------------------------------------------------
widths = st.integers(1, MAX_WIDTH)
digit = st.sampled_from("0123456789")


@st.composite
def entries(draw: st.DrawFn) -> str:
    width = draw(widths)
    form = draw(st.sampled_from(["exact", "range", "pattern"]))
    if form == "exact":
        return "".join(draw(st.lists(digit, min_size=width, max_size=width)))
    if form == "range":
        a, b = sorted(draw(st.lists(st.integers(0, 10**width - 1), min_size=2, max_size=2)))
        return f"{a:0{width}d}-{b:0{width}d}"
    chars = draw(st.lists(st.sampled_from("0123456789**"), min_size=width, max_size=width))
    index = draw(st.integers(0, width - 1))
    chars[index] = "*"
    return "".join(chars)


kinds = st.sampled_from(["DTMF", "CALLER"])
raw_entry_lists = st.lists(entries(), min_size=1, max_size=6)


def greedy_mask(raw: list[str], kind: Kind) -> Mask:
    """Keep the entries that still make a valid mask (the first always does)."""
    kept: list[str] = []
    for entry in raw:
        try:
            parse_mask(";".join([*kept, entry]), kind)
        except MaskError:
            continue
        kept.append(entry)
    return parse_mask(";".join(kept), kind)


masks = st.builds(greedy_mask, raw_entry_lists, kinds)
inputs = st.one_of(
    st.text("0123456789", min_size=0, max_size=MAX_WIDTH + 1),
    st.builds(lambda s: "+" + s, st.text("0123456789", min_size=1, max_size=MAX_WIDTH)),
    st.text("0123456789*#+", max_size=4),
)


# --- properties ----------------------------------------------------------------------------
@settings(max_examples=150, deadline=None)
@given(raw=raw_entry_lists, kind=kinds)
def test_parse_refuses_exactly_the_overlapping_or_duplicate_entry_lists(
    raw: list[str], kind: Kind
) -> None:
    clash = any(
        a == b or ref_overlap([a], [b], kind) for i, a in enumerate(raw) for b in raw[i + 1 :]
    )
    try:
        mask = parse_mask(";".join(raw), kind)
    except MaskError as error:
        assert clash, str(error)
        assert error.entry in raw
    else:
        assert not clash
        assert mask.entries == tuple(raw)


@settings(max_examples=150, deadline=None)
@given(mask=masks, values=st.lists(inputs, min_size=1, max_size=20))
def test_mask_matches_like_the_reference(mask: Mask, values: list[str]) -> None:
    for value in values:
        expected = ref_matching_entry(list(mask.entries), mask.kind, value)
        assert matching_entry(mask, value) == expected
        assert mask.matches(value) is (expected is not None)


@settings(max_examples=150, deadline=None)
@given(raw_a=raw_entry_lists, raw_b=raw_entry_lists, kind=kinds)
def test_overlap_witness_is_shared_and_none_means_none(
    raw_a: list[str], raw_b: list[str], kind: Kind
) -> None:
    a, b = greedy_mask(raw_a, kind), greedy_mask(raw_b, kind)
    for x, y in ((a, b), (b, a)):
        found = x.overlap(y)
        if found is None:
            assert not ref_overlap(list(x.entries), list(y.entries), kind)
        else:
            assert x.matches(found)
            assert y.matches(found)


@settings(max_examples=300, deadline=None)
@given(a=entries(), b=entries())
def test_single_entries_overlap_exactly_when_the_reference_says(a: str, b: str) -> None:
    """The cheap, dense version: one entry against one, each pair of forms, both ways."""
    ma, mb = parse_mask(a, "DTMF"), parse_mask(b, "DTMF")
    for x, y in ((ma, mb), (mb, ma)):
        found = x.overlap(y)
        assert (found is not None) is ref_overlap([a], [b], "DTMF")
        if found is not None:
            assert x.matches(found)
            assert y.matches(found)


@settings(max_examples=60, deadline=None)
@given(
    route_masks=st.lists(raw_entry_lists, min_size=1, max_size=8),
    with_all=st.booleans(),
    values=st.lists(inputs, min_size=1, max_size=20),
)
def test_index_refuses_exactly_overlaps_and_looks_up_like_a_scan(
    route_masks: list[list[str]], with_all: bool, values: list[str]
) -> None:
    kind: Kind = "DTMF"
    index: MaskIndex[int] = MaskIndex(kind)
    routes: list[Mask] = []
    candidates = [greedy_mask(raw, kind) for raw in route_masks]
    if with_all:
        candidates.insert(len(candidates) // 2, parse_mask("ALL", kind))
    for mask in candidates:
        clash = any(
            ref_overlap(list(mask.entries), list(r.entries), kind) or "ALL" in (mask.text, r.text)
            for r in routes
        )
        try:
            index.add(mask, len(routes))
        except RouteConflictError:
            assert clash
        else:
            assert not clash
            routes.append(mask)
    assert len(index) == sum(len(r.entries) for r in routes)
    for value in values:
        expected = next(
            (
                (n, entry)
                for n, r in enumerate(routes)
                if (entry := ref_matching_entry(list(r.entries), kind, value)) is not None
            ),
            None,
        )
        assert index.lookup(value) == expected
