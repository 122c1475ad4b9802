"""``Mask``: one validated DTMF or caller mask, the way an action URL's ``dtmf_mask`` /
``caller_mask`` holds it (portsip.md §3)."""

from __future__ import annotations

from typing import cast

from ivrhooks.core.masks.entry import Entry, needs_respelling, parse_entry, respell
from ivrhooks.core.masks.table import EntryTable
from ivrhooks.core.types import Kind
from ivrhooks.errors import MaskError

PBX_MASK_LIMIT = 255  # characters per dtmf_mask / caller_mask ([API] action URL schema)


def check_kind(kind: str, *, mask: str = "") -> Kind:
    """``kind`` itself if it is ``"DTMF"`` or ``"CALLER"``; a ``MaskError`` otherwise."""
    if kind in ("DTMF", "CALLER"):
        return cast("Kind", kind)
    raise MaskError(f"mask kind must be 'DTMF' or 'CALLER', not {kind!r}", mask=mask)


def normalize(value: str, kind: Kind) -> str:
    """The input as matching sees it: a caller number loses one leading ``+``.

    Decision (not documented by the PBX): '+' only marks the number as international, the
    entries spell digits, so '+8613800000000' matches the entry '8613800000000'.
    """
    if kind == "CALLER" and value.startswith("+"):
        return value[1:]
    return value


def _advice(entry: str, kind: Kind) -> str | None:
    """``respell(entry)`` if it parses as a mask of its own; None when no spelling is certain
    (``"1, 1"``, ``" "``): advice that the next run would refuse is no advice."""
    candidate = respell(entry)
    try:
        Mask(candidate, kind)  # holds no whitespace nor ',': this cannot come back here
    except MaskError:
        return None
    return candidate


class Mask:
    """An immutable, hashable, validated mask. Build one with ``parse_mask``."""

    __slots__ = ("_entries", "_kind", "_parsed", "_table", "_text")

    def __init__(self, text: str, kind: Kind) -> None:
        kind = check_kind(kind, mask=text)
        if text == "":
            raise MaskError(f"{kind} mask is empty; give at least one entry", mask=text)
        raw = text.split(";")
        table: EntryTable[None] = EntryTable()
        parsed: list[Entry] = []
        seen: set[str] = set()
        for item in raw:
            advice = _advice(item, kind) if needs_respelling(item) else None
            entry = parse_entry(item, mask=text, kind=kind, count=len(raw), advice=advice)
            if entry.text in seen:
                raise MaskError(
                    f"mask {text!r} lists {entry.text!r} twice (the PBX rejects duplicate entries)",
                    mask=text,
                    entry=entry.text,
                )
            hit = table.conflict(entry)
            if hit is not None:
                # Overlap inside one action URL is pointless and its PBX handling undocumented.
                raise MaskError(
                    f"mask entries {hit[0].text!r} and {entry.text!r} overlap (both match "
                    f"{hit[2]!r}); keep one or narrow them",
                    mask=text,
                    entry=entry.text,
                )
            table.add(entry, None)
            parsed.append(entry)
            seen.add(entry.text)
        self._text = text
        self._kind: Kind = kind
        self._entries = tuple(raw)
        self._parsed = tuple(parsed)
        self._table = table

    @property
    def text(self) -> str:
        """Canonical text: the entries joined by ``;`` in the order given."""
        return self._text

    @property
    def kind(self) -> Kind:
        return self._kind

    @property
    def entries(self) -> tuple[str, ...]:
        return self._entries

    @property
    def parsed(self) -> tuple[Entry, ...]:
        """The entries as parsed: form, bounds and width."""
        return self._parsed

    def __repr__(self) -> str:
        return f"Mask({self._text!r}, kind={self._kind!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Mask):
            return NotImplemented
        return self._kind == other._kind and self._text == other._text

    def __hash__(self) -> int:
        return hash((self._kind, self._text))

    def matches(self, value: str) -> bool:
        """Whether the PBX would fire for this input (DTMF digits or caller number)."""
        return self._table.lookup(normalize(value, self._kind)) is not None

    def overlap(self, other: Mask) -> str | None:
        """One concrete input both masks match, or None if they share none."""
        if other._kind != self._kind:
            raise MaskError(
                f"cannot compare {self._kind} mask {self._text!r} with "
                f"{other._kind} mask {other._text!r}",
                mask=other._text,
            )
        # Probe the larger table with the smaller mask's entries: cost follows the smaller.
        small, large = (self, other) if len(self._parsed) <= len(other._parsed) else (other, self)
        for entry in small._parsed:
            hit = large._table.conflict(entry)
            if hit is not None:
                return hit[2]
        return None

    def chunks(self, limit: int = PBX_MASK_LIMIT) -> list[str]:
        """The entries packed, in order and whole, into ``;``-joined texts of at most ``limit``
        characters: one per action URL when a mask outgrows the PBX's 255."""
        if limit < 1:
            raise MaskError(f"chunk limit must be at least 1, not {limit}", mask=self._text)
        chunks: list[str] = []
        current: list[str] = []
        size = 0
        for entry in self._entries:
            if len(entry) > limit:
                raise MaskError(
                    f"mask entry {entry!r} is {len(entry)} characters, longer than the "
                    f"{limit}-character limit of one action URL mask",
                    mask=self._text,
                    entry=entry,
                )
            needed = len(entry) + (1 if current else 0)
            if current and size + needed > limit:
                chunks.append(";".join(current))
                current, size, needed = [], 0, len(entry)
            current.append(entry)
            size += needed
        chunks.append(";".join(current))
        return chunks

    def example(self) -> str:
        """One input this mask matches (its first entry's smallest)."""
        return self._parsed[0].example()


def parse_mask(text: str, kind: Kind) -> Mask:
    """Validate ``text`` as a ``kind`` mask; ``MaskError`` names the bad entry."""
    return Mask(text, kind)


def parsed_entries(mask: Mask) -> tuple[Entry, ...]:
    """The parsed entries of ``mask`` (for ``MaskIndex``, same package)."""
    return mask._parsed
