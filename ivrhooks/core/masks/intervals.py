"""Disjoint digit intervals of one width (exact numbers and ranges), searched with ``bisect``.

Digit strings of equal length sort exactly as their numeric values do, so bounds stay strings:
no ``int()`` (which refuses strings over 4,300 digits) and no leading-zero ambiguity.
Intervals never overlap, because every insert is preceded by a conflict check; so the interval
with the greatest low bound <= x is the only one that can contain x.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from typing import Generic, TypeVar

Item = TypeVar("Item")


def min_fill(pattern: str) -> str:
    """The smallest number a ``*`` pattern matches."""
    return pattern.replace("*", "0")


def next_match(pattern: str, floor: str) -> str | None:
    """The smallest number >= ``floor`` (same width) that ``pattern`` matches, or None.

    Walk ``floor`` until the first fixed pattern digit that differs. If the pattern digit is
    higher, keep the prefix, put it there and fill the rest minimally. If it is lower, the
    prefix must grow: bump the last ``*`` position before it that is not yet 9.
    """
    for i, (p, f) in enumerate(zip(pattern, floor, strict=True)):
        if p == "*" or p == f:
            continue
        if p > f:
            return floor[:i] + p + min_fill(pattern[i + 1 :])
        for j in range(i - 1, -1, -1):
            if pattern[j] == "*" and floor[j] != "9":
                return floor[:j] + chr(ord(floor[j]) + 1) + min_fill(pattern[j + 1 :])
        return None
    return floor


class Intervals(Generic[Item]):
    """Sorted, disjoint inclusive intervals ``lo..hi`` of one width, each with an item."""

    __slots__ = ("_his", "_items", "_los")

    def __init__(self) -> None:
        self._los: list[str] = []
        self._his: list[str] = []
        self._items: list[Item] = []

    def add(self, lo: str, hi: str, item: Item) -> None:
        """Insert an interval the caller has checked overlaps none already here."""
        i = bisect_left(self._los, lo)
        self._los.insert(i, lo)
        self._his.insert(i, hi)
        self._items.insert(i, item)

    def lookup(self, digits: str) -> Item | None:
        """The item whose interval contains ``digits``: one binary search."""
        i = bisect_right(self._los, digits) - 1
        if i >= 0 and self._his[i] >= digits:
            return self._items[i]
        return None

    def overlapping(self, lo: str, hi: str) -> tuple[Item, str] | None:
        """An item whose interval meets ``lo..hi``, and a number in both.

        Among intervals starting at or before ``hi``, the last one also ends last (they are
        disjoint), so it alone decides.
        """
        i = bisect_right(self._los, hi) - 1
        if i >= 0 and self._his[i] >= lo:
            return self._items[i], max(lo, self._los[i])
        return None

    def matching(self, pattern: str) -> tuple[Item, str] | None:
        """An item whose interval holds a number ``pattern`` matches, and that number.

        Leapfrog between the pattern's next match and the next interval: each round either
        finds a hit or skips at least one interval, and never looks at intervals outside the
        pattern's own span.
        """
        candidate: str | None = min_fill(pattern)
        while candidate is not None:
            i = bisect_right(self._los, candidate) - 1
            if i >= 0 and self._his[i] >= candidate:
                return self._items[i], candidate
            if i + 1 == len(self._los):
                return None
            candidate = next_match(pattern, self._los[i + 1])
        return None
