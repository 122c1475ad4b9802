"""Mask matching for the fake PBX, through the interface of ``ivrhooks.masks``.

``ivrhooks.masks`` (``parse_mask(text, kind) -> Mask``, ``Mask.matches(value) -> bool``) is the
project's one mask grammar. While it is not importable this module falls back to a minimal
private matcher of the grammar in PortSIP admin guide "Action URL" (reference/portsip.md §3):
exact numbers, inclusive numeric ranges ``a-b``, ``*`` as exactly one digit, ``ALL`` (DTMF only),
entries separated by ``;`` and unique.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from ivrhooks.errors import MaskError

__all__ = ["Kind", "Matcher", "compile_mask"]

Kind = Literal["DTMF", "CALLER"]


class Matcher(Protocol):
    def matches(self, value: str) -> bool: ...


def _real_parse_mask() -> Any:
    try:
        module = importlib.import_module("ivrhooks.masks")
    except ImportError:
        return None
    return getattr(module, "parse_mask", None)


_PARSE_MASK = _real_parse_mask()
_RANGE = re.compile(r"^([0-9]+)-([0-9]+)$")
_PATTERN = re.compile(r"^[0-9*]+$")


@dataclass(frozen=True)
class _FallbackMask:
    exact: frozenset[str]
    ranges: tuple[tuple[int, int], ...]
    patterns: tuple[re.Pattern[str], ...]
    any_input: bool

    def matches(self, value: str) -> bool:
        if self.any_input and value:
            return True
        if value in self.exact or any(p.fullmatch(value) for p in self.patterns):
            return True
        return value.isdigit() and any(lo <= int(value) <= hi for lo, hi in self.ranges)


def _fallback(text: str, kind: Kind) -> _FallbackMask:
    exact: set[str] = set()
    ranges: list[tuple[int, int]] = []
    patterns: list[re.Pattern[str]] = []
    any_input = False
    seen: set[str] = set()
    for entry in text.split(";"):
        entry = entry.strip()
        if not entry:
            raise MaskError(f"{kind} mask {text!r}: empty entry", mask=text, entry=entry)
        if entry in seen:
            raise MaskError(
                f"{kind} mask {text!r}: duplicate entry {entry!r}", mask=text, entry=entry
            )
        seen.add(entry)
        if entry == "ALL" and kind == "DTMF":
            any_input = True
        elif entry.isdigit() or (kind == "CALLER" and re.fullmatch(r"\+?[0-9]+", entry)):
            exact.add(entry)
        elif match := _RANGE.match(entry):
            lo, hi = int(match[1]), int(match[2])
            if lo > hi:
                raise MaskError(
                    f"{kind} mask: range {entry!r} runs backwards", mask=text, entry=entry
                )
            ranges.append((lo, hi))
        elif _PATTERN.match(entry):
            patterns.append(re.compile(entry.replace("*", "[0-9]")))
        else:
            raise MaskError(f"{kind} mask: entry {entry!r} is not valid", mask=text, entry=entry)
    return _FallbackMask(frozenset(exact), tuple(ranges), tuple(patterns), any_input)


def compile_mask(text: str, kind: Kind) -> Matcher:
    """Parse ``text`` as a ``kind`` mask; raises ``MaskError`` naming the bad entry."""
    if _PARSE_MASK is not None:
        matcher: Matcher = _PARSE_MASK(text, kind)
        return matcher
    return _fallback(text, kind)
