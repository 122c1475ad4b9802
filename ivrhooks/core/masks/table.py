"""The entry table both ``Mask`` and ``MaskIndex`` are built on: non-overlapping entries, each
with a value, that answer "which entry matches this input?" and "which entry shares an input
with this one?" without scanning.

Layout (per digit width, since every non-``ALL`` entry matches inputs of one width only):
exact numbers and ranges as disjoint intervals in sorted arrays (``Intervals``), ``*``
patterns in a position trie (``PatternTrie``), and ``ALL`` as the default.
"""

from __future__ import annotations

from typing import Generic, TypeVar

from ivrhooks.core.masks.entry import Entry, is_digits
from ivrhooks.core.masks.intervals import Intervals
from ivrhooks.core.masks.trie import PatternTrie

V = TypeVar("V")


class EntryTable(Generic[V]):
    """Non-overlapping mask entries, each with a value."""

    __slots__ = ("_all", "_count", "_first", "_intervals", "_patterns")

    def __init__(self) -> None:
        self._intervals: dict[int, Intervals[tuple[Entry, V]]] = {}
        self._patterns: dict[int, PatternTrie[tuple[Entry, V]]] = {}
        self._all: tuple[Entry, V] | None = None
        self._first: tuple[Entry, V] | None = None
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def add(self, entry: Entry, value: V) -> None:
        """Insert ``entry``; the caller has made sure ``conflict(entry)`` is None."""
        item = (entry, value)
        if entry.form == "all":
            self._all = item
        elif entry.form == "pattern":
            self._patterns.setdefault(entry.width, PatternTrie()).add(entry.text, item)
        else:
            self._intervals.setdefault(entry.width, Intervals()).add(entry.lo, entry.hi, item)
        if self._first is None:
            self._first = item
        self._count += 1

    def lookup(self, value: str) -> tuple[Entry, V] | None:
        """The entry matching an already normalised input, with its value.

        At most one entry can match (entries never overlap), so the first hit is the answer.
        """
        if is_digits(value):
            width = len(value)
            intervals = self._intervals.get(width)
            if intervals is not None:
                hit = intervals.lookup(value)
                if hit is not None:
                    return hit
            trie = self._patterns.get(width)
            if trie is not None:
                hit = trie.lookup(value)
                if hit is not None:
                    return hit
        # ALL matches any non-empty DTMF input, '*' and '#' included ([ADMIN], v22.6.0+).
        if value and self._all is not None:
            return self._all
        return None

    def conflict(self, entry: Entry) -> tuple[Entry, V, str] | None:
        """An entry already here that shares an input with ``entry``, its value, and one
        such input; None if there is none."""
        if self._first is None:
            return None
        if self._all is not None:
            return (*self._all, entry.example())
        if entry.form == "all":
            return (*self._first, self._first[0].example())
        width = entry.width
        intervals = self._intervals.get(width)
        trie = self._patterns.get(width)
        found: tuple[tuple[Entry, V], str] | None = None
        if entry.form == "pattern":
            if intervals is not None:
                found = intervals.matching(entry.text)
            if found is None and trie is not None:
                found = trie.compatible(entry.text)
        else:
            if intervals is not None:
                found = intervals.overlapping(entry.lo, entry.hi)
            if found is None and trie is not None:
                found = trie.in_interval(entry.lo, entry.hi)
        if found is None:
            return None
        (other, value), witness = found
        return other, value, witness
