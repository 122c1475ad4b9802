"""What the mask tests share."""

from __future__ import annotations

from ivrhooks.core.masks import Mask, MaskIndex


def matching_entry(mask: Mask, value: str) -> str | None:
    """The entry of ``mask`` that takes ``value`` (as ``routes --explain`` finds it), or None."""
    index: MaskIndex[None] = MaskIndex(mask.kind)
    index.add(mask, None)
    hit = index.lookup(value)
    return None if hit is None else hit[1]
