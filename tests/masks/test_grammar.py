"""The mask grammar, matching, overlap and chunking, table by table (portsip.md §3)."""

from __future__ import annotations

import pytest

from ivrhooks.core.masks import Kind, Mask, parse_mask
from ivrhooks.errors import ConfigurationError, MaskError
from tests.masks.helpers import matching_entry

# (mask, kind, input, entry expected to match or None)
MATCHES: list[tuple[str, Kind, str, str | None]] = [
    ("101", "DTMF", "101", "101"),
    ("101", "DTMF", "1010", None),
    ("101", "DTMF", "10", None),
    ("0", "DTMF", "0", "0"),
    ("007", "DTMF", "7", None),
    ("3000-4000", "DTMF", "3000", "3000-4000"),
    ("3000-4000", "DTMF", "3500", "3000-4000"),
    ("3000-4000", "DTMF", "4000", "3000-4000"),
    ("3000-4000", "DTMF", "2999", None),
    ("3000-4000", "DTMF", "4001", None),
    ("3000-4000", "DTMF", "350", None),
    ("3000-4000", "DTMF", "03500", None),
    ("00-09", "DTMF", "05", "00-09"),
    ("00-09", "DTMF", "5", None),
    ("*****", "DTMF", "12345", "*****"),
    ("*****", "DTMF", "1234", None),
    ("*****", "DTMF", "123456", None),
    ("55*1", "DTMF", "5591", "55*1"),
    ("55*1", "DTMF", "5592", None),
    ("55*1", "DTMF", "55*1", None),
    ("101;3000-4000;55*1", "DTMF", "101", "101"),
    ("101;3000-4000;55*1", "DTMF", "3999", "3000-4000"),
    ("101;3000-4000;55*1", "DTMF", "5501", "55*1"),
    ("101;3000-4000;55*1", "DTMF", "102", None),
    ("ALL", "DTMF", "1", "ALL"),
    ("ALL", "DTMF", "*", "ALL"),
    ("ALL", "DTMF", "#", "ALL"),
    ("ALL", "DTMF", "12#", "ALL"),
    ("ALL", "DTMF", "", None),
    ("12", "DTMF", "12#", None),
    ("12", "DTMF", "*12", None),
    ("1", "DTMF", "", None),
    ("1", "DTMF", "\u00b9", None),
    ("101", "CALLER", "101", "101"),
    ("101", "CALLER", "+101", "101"),
    ("101", "CALLER", "++101", None),
    ("101", "CALLER", "101+", None),
    ("101", "CALLER", "+", None),
    ("101", "DTMF", "+101", None),
    ("8613800000000-8613899999999", "CALLER", "+8613812345678", "8613800000000-8613899999999"),
    ("86**********", "CALLER", "+861381234567", "86**********"),
    ("101", "CALLER", " 101", None),
    ("101", "CALLER", "10a", None),
]


@pytest.mark.parametrize(
    ("text", "kind", "value", "entry"),
    MATCHES,
    ids=[f"{k}:{t}<-{v!r}" for t, k, v, _ in MATCHES],
)
def test_match(text: str, kind: Kind, value: str, entry: str | None) -> None:
    mask = parse_mask(text, kind)
    assert matching_entry(mask, value) == entry
    assert mask.matches(value) is (entry is not None)


# (mask, kind, entry the error must name, words the message must contain)
INVALID: list[tuple[str, Kind, str | None, str]] = [
    ("", "DTMF", None, "empty"),
    ("1;;2", "DTMF", "", "empty entry"),
    ("1;2;", "DTMF", "", "empty entry"),
    (";1", "CALLER", "", "empty entry"),
    ("12a", "DTMF", "12a", "'a'"),
    ("1#", "DTMF", "1#", "'#'"),
    ("+101", "CALLER", "+101", "'+'"),
    ("x1", "DTMF", "x1", "'x'"),
    ("1.5", "DTMF", "1.5", "'.'"),
    ("\u00b9", "DTMF", "\u00b9", "digits"),
    ("4000-3000", "DTMF", "4000-3000", "write '3000-4000'"),
    ("1-100", "DTMF", "1-100", "'1-9;10-99;100'"),
    ("5-0100", "DTMF", "5-0100", "'5-9;10-99;100'"),
    ("100-50", "DTMF", "100-50", "reversed; put the low bound first"),
    ("1-", "DTMF", "1-", "low-high"),
    ("-5", "DTMF", "-5", "low-high"),
    ("1-2-3", "DTMF", "1-2-3", "low-high"),
    ("1*-2*", "DTMF", "1*-2*", "low-high"),
    ("101;101", "DTMF", "101", "twice"),
    ("ALL", "CALLER", "ALL", "only allowed in DTMF"),
    ("ALL;101", "DTMF", "ALL", "only entry"),
    ("101;ALL", "DTMF", "ALL", "only entry"),
    ("all", "DTMF", "all", "'ALL'"),
    (" 101", "DTMF", " 101", "whitespace"),
    ("101 ", "DTMF", "101 ", "whitespace"),
    ("101; 102", "DTMF", " 102", "'102'"),
    ("1 01", "DTMF", "1 01", "'101'"),
    ("1000-2000;1500", "DTMF", "1500", "'1000-2000' and '1500'"),
    ("1500;1000-2000", "DTMF", "1000-2000", "'1500' and '1000-2000'"),
    ("1000-2000;2000-3000", "DTMF", "2000-3000", "both match '2000'"),
    ("1*;*2", "DTMF", "*2", "both match '12'"),
    ("15*0;1000-2000", "CALLER", "1000-2000", "'15*0'"),
]


@pytest.mark.parametrize(
    ("text", "kind", "entry", "words"),
    INVALID,
    ids=[f"{k}:{t!r}" for t, k, _, _ in INVALID],
)
def test_invalid_mask_names_the_entry(text: str, kind: Kind, entry: str | None, words: str) -> None:
    with pytest.raises(MaskError) as caught:
        parse_mask(text, kind)
    error = caught.value
    assert error.mask == text
    assert error.entry == entry
    assert words in str(error)
    if entry:
        assert repr(entry) in str(error)
    assert isinstance(error, ConfigurationError)


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(MaskError, match="'DTMF' or 'CALLER'"):
        parse_mask("101", "dtmf")  # type: ignore[arg-type]


def test_mask_is_immutable_and_hashable_by_kind_and_text() -> None:
    a = parse_mask("101;3000-4000", "DTMF")
    assert a.text == "101;3000-4000"
    assert a.kind == "DTMF"
    assert a.entries == ("101", "3000-4000")
    assert a == parse_mask("101;3000-4000", "DTMF")
    assert a != parse_mask("101;3000-4000", "CALLER")
    assert a != parse_mask("3000-4000;101", "DTMF")
    assert len({a, parse_mask("101;3000-4000", "DTMF")}) == 1
    assert repr(a) == "Mask('101;3000-4000', kind='DTMF')"
    with pytest.raises(AttributeError):
        a.text = "102"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        a.extra = 1  # type: ignore[attr-defined]


EXAMPLES = ["101", "3000-4000", "55*1", "*****", "ALL", "12;3000-4000"]


@pytest.mark.parametrize("text", EXAMPLES, ids=EXAMPLES)
def test_example_is_matched(text: str) -> None:
    mask = parse_mask(text, "DTMF")
    assert mask.matches(mask.example())


def _entries(count: int, width: int) -> list[str]:
    return [str(n).zfill(width) for n in range(count)]


# (entries, limit, expected chunk lengths); n entries of w digits joined by ';' take n*w + n-1.
CHUNKS: list[tuple[list[str], int, list[int]]] = [
    (_entries(1, 3), 255, [3]),
    (_entries(51, 4), 255, [254]),
    (_entries(1, 255), 255, [255]),
    ([*_entries(42, 5), "123"], 255, [255]),  # 42*5 + 41 + 1 + 3: exactly 255
    ([*_entries(42, 5), "1234"], 255, [251, 4]),  # 256: the last entry moves on
    (_entries(100, 4), 255, [254, 244]),
    (_entries(10, 2), 2, [2] * 10),
    (_entries(3, 1), 3, [3, 1]),
]


@pytest.mark.parametrize(
    ("entries", "limit", "sizes"),
    CHUNKS,
    ids=["single", "51x4", "one-255-entry", "exactly-255", "256", "100x4", "tight", "odd"],
)
def test_chunks_keep_entries_whole_and_in_order(
    entries: list[str], limit: int, sizes: list[int]
) -> None:
    mask = parse_mask(";".join(entries), "DTMF")
    chunks = mask.chunks(limit)
    assert [len(c) for c in chunks] == sizes
    assert ";".join(chunks) == mask.text
    assert all(parse_mask(c, "DTMF").entries for c in chunks)


def test_chunks_default_limit_is_the_pbx_255() -> None:
    mask = parse_mask(";".join(_entries(100, 4)), "CALLER")
    assert mask.chunks() == mask.chunks(255)
    assert all(len(c) <= 255 for c in mask.chunks())


def test_chunks_refuse_an_entry_longer_than_the_limit() -> None:
    mask = parse_mask("1;" + "2" * 256, "DTMF")
    with pytest.raises(MaskError, match="256 characters") as caught:
        mask.chunks(255)
    assert caught.value.entry == "2" * 256
    with pytest.raises(MaskError, match="at least 1"):
        mask.chunks(0)


# (mask a, mask b, an input both match, or None when they share none)
OVERLAPS: list[tuple[str, str, str | None]] = [
    ("101", "101", "101"),
    ("101", "102", None),
    ("101", "1010", None),
    ("3500", "3000-4000", "3500"),
    ("4001", "3000-4000", None),
    ("350", "3000-4000", None),
    ("5591", "55*1", "5591"),
    ("5592", "55*1", None),
    ("101", "ALL", "101"),
    ("3000-4000", "3500-4500", "3500"),
    ("3000-4000", "4000-4500", "4000"),
    ("3000-4000", "4001-4500", None),
    ("300-400", "3000-4000", None),
    ("3000-4000", "4**0", "4000"),
    ("3001-3009", "3**0", None),
    ("3001-3010", "3**0", "3010"),
    ("3055-3065", "3*6*", "3060"),
    ("3055-3059", "3*6*", None),
    ("16-25", "*5", "25"),
    ("16-24", "*5", None),
    ("18-31", "*0", "20"),
    ("19-20", "*9", "19"),
    ("1999-2001", "2**1", "2001"),
    ("1999-2000", "2**1", None),
    ("3000-4000", "****", "3000"),
    ("3000-4000", "***", None),
    ("3000-4000", "ALL", "3000"),
    ("55*1", "5*21", "5521"),
    ("55*1", "5*22", None),
    ("****", "12*4", "1204"),
    ("***", "****", None),
    ("55*1", "ALL", "5501"),
    ("ALL", "ALL", "1"),
    ("101;200-299;3**", "150-160;250", "250"),
    ("101;200-299;3**", "150-160;399", "399"),
    ("101;200-299;3**", "150-160;400-499", None),
]


def _overlap_id(case: tuple[str, str, str | None]) -> str:
    return f"{case[0]}&{case[1]}"


@pytest.mark.parametrize(("a", "b", "expected"), OVERLAPS, ids=map(_overlap_id, OVERLAPS))
def test_overlap_both_directions(a: str, b: str, expected: str | None) -> None:
    ma, mb = parse_mask(a, "DTMF"), parse_mask(b, "DTMF")
    for x, y in ((ma, mb), (mb, ma)):
        found = x.overlap(y)
        assert (found is None) is (expected is None)
        if found is not None:
            assert x.matches(found)
            assert y.matches(found)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [("3500", "3000-4000", "3500"), ("3001-3010", "3**0", "3010"), ("55*1", "5*21", "5521")],
    ids=["exact-range", "range-pattern", "pattern-pattern"],
)
def test_overlap_witness_is_the_shared_input(a: str, b: str, expected: str) -> None:
    assert parse_mask(a, "CALLER").overlap(parse_mask(b, "CALLER")) == expected


def test_overlap_refuses_masks_of_different_kinds() -> None:
    with pytest.raises(MaskError, match="cannot compare DTMF mask '101' with CALLER"):
        parse_mask("101", "DTMF").overlap(parse_mask("101", "CALLER"))


def test_very_long_entries_need_no_int_conversion() -> None:
    lo, hi = "1" + "0" * 5000, "2" + "0" * 5000
    mask = parse_mask(f"{lo}-{hi}", "DTMF")
    assert mask.matches("15" + "0" * 4999)
    with pytest.raises(MaskError, match="different numbers of digits"):
        parse_mask(f"1-{hi}", "DTMF")


def test_mask_constructor_validates_like_parse_mask() -> None:
    assert Mask("101", "DTMF") == parse_mask("101", "DTMF")
    with pytest.raises(MaskError):
        Mask("1;;2", "DTMF")
