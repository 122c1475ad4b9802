"""``MaskIndex``: the masks of many routes for one (receptionist, kind), refusing overlaps.

Two action URLs of one receptionist that match the same input leave the PBX to choose, and
how it chooses is not documented ([ADMIN] "Action URL"), so ivrhooks refuses the second route
at decoration time instead of guessing.
"""

from __future__ import annotations

from typing import Generic, TypeVar

from ivrhooks.core.masks.entry import Entry
from ivrhooks.core.masks.mask import Mask, check_kind, normalize, parsed_entries
from ivrhooks.core.masks.table import EntryTable
from ivrhooks.core.types import Kind
from ivrhooks.errors import MaskError, RouteConflictError

T = TypeVar("T")


class MaskIndex(Generic[T]):
    """Masks mapped to values (routes), looked up by input without scanning."""

    __slots__ = ("_kind", "_masks", "_table")

    def __init__(self, kind: Kind) -> None:
        self._kind: Kind = check_kind(kind)
        self._table: EntryTable[tuple[Mask, T]] = EntryTable()
        self._masks: list[Mask] = []

    def masks(self) -> tuple[Mask, ...]:
        """The masks indexed, in the order they were added."""
        return tuple(self._masks)

    @property
    def kind(self) -> Kind:
        return self._kind

    def __len__(self) -> int:
        """Number of mask entries indexed (a mask of three entries counts three)."""
        return len(self._table)

    def _find_conflict(self, mask: Mask) -> tuple[Entry, Entry, Mask, T, str] | None:
        if mask.kind != self._kind:
            raise MaskError(
                f"a {mask.kind} mask cannot join an index of {self._kind} masks", mask=mask.text
            )
        for entry in parsed_entries(mask):
            hit = self._table.conflict(entry)
            if hit is not None:
                other, (other_mask, value), witness = hit
                return entry, other, other_mask, value, witness
        return None

    def conflict(self, mask: Mask) -> tuple[T, str] | None:
        """An indexed value whose mask shares an input with ``mask``, and one such input."""
        found = self._find_conflict(mask)
        return None if found is None else (found[3], found[4])

    def add(self, mask: Mask, value: T) -> None:
        """Index ``mask`` for ``value``; ``RouteConflictError`` if it overlaps an indexed mask
        (the index is then unchanged)."""
        found = self._find_conflict(mask)
        if found is not None:
            entry, other, other_mask, _, witness = found
            raise RouteConflictError(
                f"{self._kind} mask {mask.text!r} overlaps mask {other_mask.text!r} of an "
                f"existing route: entries {entry.text!r} and {other.text!r} both match "
                f"{witness!r}; the PBX does not say which action URL would fire, so narrow one"
            )
        for entry in parsed_entries(mask):
            self._table.add(entry, (mask, value))
        self._masks.append(mask)

    def lookup(self, value: str) -> tuple[T, str] | None:
        """The value whose mask matches the input, and the entry that matched."""
        hit = self._table.lookup(normalize(value, self._kind))
        if hit is None:
            return None
        entry, (_, routed) = hit
        return routed, entry.text
