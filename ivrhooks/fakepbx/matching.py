"""Mask matching for the fake PBX: the project's one grammar, ``ivrhooks.masks``.

Kept as a seam so the fake PBX's two uses (validating a mask on create/update, matching a
call against it) go through one place, with parsed masks cached: a dial re-reads the
receptionist's action URLs every time.
"""

from __future__ import annotations

from functools import lru_cache

from ivrhooks.core.masks import Mask, parse_mask
from ivrhooks.core.types import Kind

__all__ = ["Kind", "compile_mask"]


@lru_cache(maxsize=1024)
def compile_mask(text: str, kind: Kind) -> Mask:
    """Parse ``text`` as a ``kind`` mask; raises ``MaskError`` naming the bad entry."""
    return parse_mask(text, kind)
