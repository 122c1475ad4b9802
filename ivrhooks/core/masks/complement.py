"""Everything but these: the DTMF inputs of 1 to ``max_digits`` digits that none of some masks
match, written as a mask PortSIP understands (``@app.otherwise``).

PortSIP has no "otherwise" entry and does not say which of two matching action URLs fires
(portsip.md §3), so "anything else" is registered as its own mask: for each length, the digit
strings no other mask takes, as exact numbers, equal-width ranges and ``*`` patterns. The
result never shares an input with the masks it complements, so no two action URLs on a
receptionist match the same input. Keyed ``*`` and ``#`` are not digits: only ``ALL`` matches
them, so "anything else" leaves them to the receptionist's own menu.
"""

from __future__ import annotations

from collections.abc import Iterable

from ivrhooks.core.masks.entry import Entry
from ivrhooks.core.masks.mask import Mask
from ivrhooks.errors import ConfigurationError

__all__ = ["MAX_OTHERWISE_DIGITS", "complement"]

#: The longest input "otherwise" covers; the PBX's receptionists take short menu choices, and
#: each length is one more run of entries to write.
MAX_OTHERWISE_DIGITS = 12
#: A pattern with many inner ``*``s stands for many separate numbers; past this many the
#: complement would not fit a handful of action URLs anyway.
_MAX_PIECES = 100_000


def complement(masks: Iterable[Mask], max_digits: int) -> Mask | None:
    """The DTMF mask matching every input of 1 to ``max_digits`` digits that no mask of
    ``masks`` matches; ``None`` when they leave nothing (``ALL`` among them, or every length
    taken)."""
    if not 1 <= max_digits <= MAX_OTHERWISE_DIGITS:
        raise ConfigurationError(
            f"max_digits={max_digits!r}: choose 1 to {MAX_OTHERWISE_DIGITS} (the longest input "
            "'otherwise' answers)"
        )
    by_width: dict[int, list[tuple[int, int]]] = {}
    for mask in masks:
        for entry in mask.parsed:
            if entry.form == "all":
                return None
            if entry.width <= max_digits:
                by_width.setdefault(entry.width, []).extend(_intervals(entry))
    entries: list[str] = []
    for width in range(1, max_digits + 1):
        entries.extend(_render(gap, width) for gap in _gaps(by_width.get(width, []), width))
    return Mask(";".join(entries), "DTMF") if entries else None


def _intervals(entry: Entry) -> list[tuple[int, int]]:
    """The numbers an exact, range or pattern entry matches, as inclusive intervals."""
    if entry.form != "pattern":
        return [(int(entry.lo), int(entry.hi))]
    text = entry.text
    stem = text.rstrip("*")
    tail = len(text) - len(stem)  # trailing stars: one contiguous block per prefix
    inner = stem.count("*")
    if 10**inner > _MAX_PIECES:
        raise ConfigurationError(
            f"mask entry {text!r}: too many separate numbers to leave out of 'otherwise'; "
            "narrow it, or lower max_digits"
        )
    prefixes = [""]
    for char in stem:
        prefixes = [p + d for p in prefixes for d in ("0123456789" if char == "*" else char)]
    size = 10**tail
    return [(int(p or "0") * size, int(p or "0") * size + size - 1) for p in prefixes]


def _gaps(taken: list[tuple[int, int]], width: int) -> list[tuple[int, int]]:
    """What ``taken`` leaves of ``0 .. 10**width - 1``."""
    gaps: list[tuple[int, int]] = []
    start = 0
    for low, high in sorted(taken):
        if low > start:
            gaps.append((start, low - 1))
        start = max(start, high + 1)
    if start <= 10**width - 1:
        gaps.append((start, 10**width - 1))
    return gaps


def _render(gap: tuple[int, int], width: int) -> str:
    """One entry for a gap: ``*`` for every digit left free by an aligned block (``5**``, or
    ``***`` for the whole length), else an exact number or an equal-width range."""
    low, high = gap
    for free in range(width, 0, -1):
        size = 10**free
        if low % size == 0 and high == low + size - 1:
            head = str(low // size).zfill(width - free) if free < width else ""
            return head + "*" * free
    if low == high:
        return str(low).zfill(width)
    return f"{str(low).zfill(width)}-{str(high).zfill(width)}"
