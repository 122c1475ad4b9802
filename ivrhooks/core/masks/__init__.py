"""PortSIP DTMF and caller masks: the grammar, a matcher that does not scan, and overlap
detection.

Grammar (portsip.md §3; [ADMIN] "Action URL", [API] action URL schema)
-----------------------------------------------------------------------
A mask is one or more entries separated by ``;``. An entry is one of:

==============  ============  ===================================================
form            example       matches
==============  ============  ===================================================
exact number    ``101``       exactly that digit string
range           ``3000-4000`` a number of the bounds' width within them, inclusive
pattern         ``55*1``      each ``*`` stands for exactly one digit
``ALL``         ``ALL``       any non-empty DTMF input (DTMF masks only, PBX v22.6.0+)
==============  ============  ===================================================

Decisions where the PBX is silent (ivrhooks refuses what would be ambiguous):

- **Range digit counts.** Both bounds must have the same number of digits, and a range matches
  only inputs of exactly that many digits: ``3000-4000`` matches ``3500``, not ``350`` nor
  ``03500``. ``1-100`` is refused with the split to write instead: ``1-9;10-99;100``.
- **Caller ``+``.** A caller number may carry one leading ``+``, which is ignored for matching:
  ``+8613800000000`` matches the entry ``8613800000000``. Any other non-digit never matches.
- **DTMF ``*`` and ``#``.** Keyed ``*``/``#`` are matched only by ``ALL``; a ``*`` in an input
  is not a digit, so the pattern ``55*1`` does not match the input ``55*1``.
- **``ALL``** must be the whole mask, and is refused in caller masks.
- **Whitespace** around or in entries is refused (the PBX gives no sign that it trims), and so
  is ``,``: entries are separated by ``;``. ``"1, 2"`` is refused advising ``1;2``; an
  error's ``advice``, when set, is what to write instead of its ``entry``, and it parses.
- **Overlaps** are refused: two entries of one mask that share an input (``1000-2000;1500``),
  and, in a ``MaskIndex``, two routes' masks that do (the PBX's choice between two matching
  action URLs is not documented). Duplicates are refused too (the PBX rejects them).
- **Length.** The PBX stores at most 255 characters per mask; ivrhooks masks may be longer and
  ``Mask.chunks(255)`` splits them, entries whole and in order, across several action URLs.

Every invalid mask raises ``ivrhooks.errors.MaskError`` whose message and ``entry`` name the bad
entry. Overlapping routes raise ``ivrhooks.errors.RouteConflictError`` naming both masks.

Matching cost
-------------
Entries are kept per digit width: exact numbers and ranges as disjoint intervals in sorted
arrays searched with ``bisect``, ``*`` patterns in a position trie, ``ALL`` as the default.
Looking up an input, or checking a new entry for overlaps, costs about the same for 10 entries
as for 10,000 (see ``bench/mask_lookup.py``).
"""

from __future__ import annotations

from ivrhooks.core.masks.index import MaskIndex
from ivrhooks.core.masks.mask import Mask, parse_mask
from ivrhooks.core.types import Kind

__all__ = ["Kind", "Mask", "MaskIndex", "parse_mask"]
