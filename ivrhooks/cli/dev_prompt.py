"""The ``ivrhooks dev`` prompt's grammar: one typed line in, one command out (pure, no I/O).

::

    101 1        caller 101 keys 1 at the current receptionist
    101 3123 9876  keys 3123, then 9876 at the next prompt (followed across receptionists)
    5551234      caller 5551234 calls in, keys nothing (a caller-mask route answers)
    to 8001      later calls go to receptionist 8001
    help         the grammar
    quit         leave (Ctrl-D too)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ivrhooks.core.types import EXTENSION_RULE, is_extension

__all__ = [
    "HELP",
    "Command",
    "Dial",
    "Help",
    "Nothing",
    "PromptError",
    "Quit",
    "SwitchTo",
    "parse_line",
]

HELP = (
    "type CALLER [DIGITS...] to place a call, e.g. `101 1` (caller 101 keys 1), `101 3123 9876` "
    "(keys 3123, then 9876 at the next prompt) or `5551234` (the caller calls in, keys "
    "nothing); `to EXT` sends later calls to receptionist EXT; "
    "`help`; `quit` (or Ctrl-D)"
)

# A caller is a number as the PBX reports it: digits, optionally E.164's leading '+'.
_CALLER = re.compile(r"\+?[0-9]{1,64}")
# DTMF keys a phone sends (RFC 4733 events 0-11): 0-9, * and #.
_DIGITS = re.compile(r"[0-9*#]{1,64}")


@dataclass(frozen=True)
class Dial:
    """Place a call from ``caller`` keying ``digits`` (``""``: the caller only calls in), then
    each group of ``more`` at the next prompt."""

    caller: str
    digits: str = ""
    more: tuple[str, ...] = ()


@dataclass(frozen=True)
class SwitchTo:
    """Send the following calls to receptionist ``extension``."""

    extension: str


@dataclass(frozen=True)
class Help:
    """Show the grammar."""


@dataclass(frozen=True)
class Quit:
    """Leave ``ivrhooks dev``."""


@dataclass(frozen=True)
class Nothing:
    """An empty line: do nothing."""


Command = Dial | SwitchTo | Help | Quit | Nothing


class PromptError(ValueError):
    """A line the prompt does not understand; the message says what to type instead."""


def parse_line(line: str) -> Command:
    """Parse one typed line; a line that is not understood raises ``PromptError``."""
    words = line.split()
    if not words:
        return Nothing()
    head = words[0].lower()
    if head in ("help", "?", "h"):
        return Help()
    if head in ("quit", "exit", "q"):
        return Quit()
    if head == "to":
        if len(words) != 2 or not is_extension(words[1]):
            raise PromptError(f"to: give one extension number of {EXTENSION_RULE}, e.g. `to 8001`")
        return SwitchTo(words[1])
    if not _CALLER.fullmatch(words[0]):
        raise PromptError(
            f"caller: {words[0]!r} is not a number (digits, optionally a leading '+'); "
            "type `help` for what the prompt understands"
        )
    groups = words[1:]
    for digits in groups:
        if not _DIGITS.fullmatch(digits):
            raise PromptError(f"digits: {digits!r} may hold only 0-9, * and #")
    return Dial(words[0], groups[0] if groups else "", tuple(groups[1:]))
