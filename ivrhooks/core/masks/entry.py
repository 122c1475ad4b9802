"""One mask entry: parsing and validation of a single `;`-separated item.

The grammar is PortSIP's (portsip.md §3, [ADMIN] "Action URL"); the rules the PBX leaves
undocumented are decided in ``ivrhooks.masks`` and enforced here, one entry at a time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ivrhooks.core.types import Kind
from ivrhooks.errors import MaskError

Form = Literal["exact", "range", "pattern", "all"]

ALL = "ALL"
_DIGITS = frozenset("0123456789")
_PATTERN_CHARS = _DIGITS | {"*"}


def is_digits(text: str) -> bool:
    """True for a non-empty string of ASCII digits (``str.isdigit`` also accepts ``"²"``)."""
    return bool(text) and text.isascii() and text.isdigit()


@dataclass(frozen=True, slots=True)
class Entry:
    """A parsed entry. ``lo``/``hi`` are the digit-string bounds (equal for an exact number);
    for a pattern both hold the pattern text; for ``ALL`` both are empty."""

    text: str
    form: Form
    lo: str
    hi: str

    @property
    def width(self) -> int:
        """Number of digits every input this entry matches has (0 for ``ALL``: any)."""
        return len(self.lo)

    def example(self) -> str:
        """One input this entry matches."""
        if self.form == "all":
            return "1"
        if self.form == "pattern":
            return self.text.replace("*", "0")
        return self.lo


def needs_respelling(entry: str) -> bool:
    """Whether ``entry`` holds whitespace or a ``,``: a list written the way other tools spell
    lists, which ``respell`` turns into PortSIP's spelling."""
    return "," in entry or any(c.isspace() for c in entry)


def respell(entry: str) -> str:
    """``entry`` in PortSIP's spelling: whitespace dropped, each ``,`` a ``;`` (``"1, 2"`` ->
    ``"1;2"``). Only a candidate: ``Mask`` advises it only if it parses."""
    return ";".join("".join(part.split()) for part in entry.split(","))


def _fix(entry: str, advice: str | None) -> str:
    if advice is not None:
        return f"write it as {advice!r}"
    steps = ["remove the whitespace"] if any(c.isspace() for c in entry) else []
    steps += ["separate entries with ';'"] if "," in entry else []
    return " and ".join(steps)


def parse_entry(
    entry: str, *, mask: str, kind: Kind, count: int, advice: str | None = None
) -> Entry:
    """Parse one entry of ``mask`` (which has ``count`` entries), or raise ``MaskError``.

    ``advice`` is what to write instead of a wrongly spelled entry (see ``respell``), checked
    by the caller: the error carries it, so that what it advises parses."""
    if entry == "":
        raise MaskError(
            f"mask {mask!r} has an empty entry (look for ';;' or a ';' at either end)",
            mask=mask,
            entry=entry,
        )
    if any(c.isspace() for c in entry):
        # The PBX gives no sign that it trims entries, so a space would silently never match.
        raise MaskError(
            f"mask entry {entry!r} contains whitespace; {_fix(entry, advice)}",
            mask=mask,
            entry=entry,
            advice=advice,
        )
    if "," in entry:
        # [ADMIN] "Action URL": entries are separated by ';'; a ',' is no separator there.
        raise MaskError(
            f"mask entry {entry!r} separates entries with ',', the PBX with ';'; "
            f"{_fix(entry, advice)}",
            mask=mask,
            entry=entry,
            advice=advice,
        )
    if entry == ALL:
        return _parse_all(entry, mask=mask, kind=kind, count=count)
    if "-" in entry:
        return _parse_range(entry, mask=mask)
    if entry.upper() == ALL:
        raise MaskError(f"mask entry {entry!r} must be written 'ALL'", mask=mask, entry=entry)
    bad = sorted(set(entry) - _PATTERN_CHARS)
    if bad:
        raise MaskError(
            f"mask entry {entry!r} has characters other than digits and '*': {''.join(bad)!r}",
            mask=mask,
            entry=entry,
        )
    if "*" in entry:
        return Entry(entry, "pattern", entry, entry)
    return Entry(entry, "exact", entry, entry)


def _parse_all(entry: str, *, mask: str, kind: Kind, count: int) -> Entry:
    if kind == "CALLER":
        # [ADMIN]: ALL is "any DTMF input"; the PBX offers it for dtmf_mask only (v22.6.0+).
        raise MaskError(
            f"'ALL' is only allowed in DTMF masks, not in caller mask {mask!r}",
            mask=mask,
            entry=entry,
        )
    if count > 1:
        raise MaskError(
            f"'ALL' must be the only entry of a mask, but {mask!r} has {count} entries",
            mask=mask,
            entry=entry,
        )
    return Entry(entry, "all", "", "")


def _parse_range(entry: str, *, mask: str) -> Entry:
    parts = entry.split("-")
    if len(parts) != 2 or not is_digits(parts[0]) or not is_digits(parts[1]):
        raise MaskError(
            f"mask entry {entry!r} is not a range: write 'low-high' with digits only, "
            "e.g. '3000-4000'",
            mask=mask,
            entry=entry,
        )
    lo, hi = parts
    if _numeric_key(lo) > _numeric_key(hi):
        advice = f"{hi}-{lo}" if len(lo) == len(hi) else None
        fix = f"write {advice!r}" if advice else "put the low bound first"
        raise MaskError(
            f"mask range {entry!r} is reversed; {fix}", mask=mask, entry=entry, advice=advice
        )
    if len(lo) != len(hi):
        # Decision (not documented by the PBX): bounds must have equal digit counts, so that a
        # range's PBX behaviour is never ambiguous (does '1-100' match '05'? '0005'?).
        split = split_range(lo, hi)
        raise MaskError(
            f"mask range {entry!r} has bounds with different numbers of digits; a range matches "
            f"only inputs as long as its bounds, so split it: {split!r}",
            mask=mask,
            entry=entry,
            advice=split,
        )
    return Entry(entry, "range", lo, hi)


def _numeric_key(digits: str) -> tuple[int, str]:
    """Order digit strings by value without ``int()``, which refuses very long strings."""
    stripped = digits.lstrip("0") or "0"
    return (len(stripped), stripped)


def split_range(lo: str, hi: str) -> str:
    """The equal-width ranges covering the values ``lo``..``hi``: ``1-100`` -> ``1-9;10-99;100``."""
    low = lo.lstrip("0") or "0"
    high = hi.lstrip("0") or "0"
    parts: list[str] = []
    for width in range(len(low), len(high) + 1):
        start = low if width == len(low) else "1" + "0" * (width - 1)
        end = high if width == len(high) else "9" * width
        parts.append(start if start == end else f"{start}-{end}")
    return ";".join(parts)
