"""``*`` patterns of one width in a trie keyed by position: each level has digit edges and a
``*`` edge.

Lookup walks the input once, following at each level the digit edge and the ``*`` edge
(an NFA frontier). Patterns in one trie never overlap, so at most one leaf is reached, and in
practice the frontier stays at one or two nodes: the cost depends on the input's length, not on
how many patterns are stored. Every node has a leaf below it (nothing is ever removed), which
lets the searches below stop at the first node that is free of constraints.
"""

from __future__ import annotations

from typing import Generic, TypeVar

Item = TypeVar("Item")


class _Node(Generic[Item]):
    __slots__ = ("children", "leaf")

    def __init__(self) -> None:
        self.children: dict[str, _Node[Item]] = {}
        self.leaf: Item | None = None


def _any_leaf(node: _Node[Item], prefix: str) -> tuple[Item, str]:
    """Descend to some leaf, spelling a number (``*`` read as ``0``)."""
    digits = [prefix]
    while node.leaf is None:
        key, node = next(iter(node.children.items()))
        digits.append("0" if key == "*" else key)
    return node.leaf, "".join(digits)


class PatternTrie(Generic[Item]):
    """Non-overlapping ``*`` patterns of one width, each with an item."""

    __slots__ = ("_root",)

    def __init__(self) -> None:
        self._root: _Node[Item] = _Node()

    def add(self, pattern: str, item: Item) -> None:
        """Insert a pattern the caller has checked overlaps none already here."""
        node = self._root
        for ch in pattern:
            node = node.children.setdefault(ch, _Node())
        node.leaf = item

    def lookup(self, digits: str) -> Item | None:
        """The item whose pattern matches ``digits`` (which has this trie's width)."""
        frontier = [self._root]
        for ch in digits:
            nxt: list[_Node[Item]] = []
            for node in frontier:
                child = node.children.get(ch)
                if child is not None:
                    nxt.append(child)
                star = node.children.get("*")
                if star is not None:
                    nxt.append(star)
            if not nxt:
                return None
            frontier = nxt
        return frontier[0].leaf

    def in_interval(self, lo: str, hi: str) -> tuple[Item, str] | None:
        """An item whose pattern matches some number in ``lo..hi``, and that number.

        A digit DP over the trie: a path is "tight" against ``lo`` (or ``hi``) while it spells
        ``lo``'s (``hi``'s) prefix. Once neither bound is tight, any leaf below will do.
        """
        stack: list[tuple[_Node[Item], str, bool, bool]] = [(self._root, "", True, True)]
        while stack:
            node, prefix, tight_lo, tight_hi = stack.pop()
            if node.leaf is not None:
                return node.leaf, prefix
            if not tight_lo and not tight_hi:
                return _any_leaf(node, prefix)
            i = len(prefix)
            low = lo[i] if tight_lo else "0"
            high = hi[i] if tight_hi else "9"
            for key, child in node.children.items():
                if key != "*":
                    if low <= key <= high:
                        stack.append((child, prefix + key, tight_lo and key == low,
                                      tight_hi and key == high))  # fmt: skip
                    continue
                # A '*' may take any digit: the two bounds stay tight, a digit strictly
                # between frees the path at once (pushed last so it is tried first).
                stack.append((child, prefix + low, tight_lo, tight_hi and low == high))
                if high != low:
                    stack.append((child, prefix + high, False, tight_hi))
                if ord(high) - ord(low) >= 2:
                    stack.append((child, prefix + chr(ord(low) + 1), False, False))
        return None

    def compatible(self, pattern: str) -> tuple[Item, str] | None:
        """An item whose pattern shares a match with ``pattern``, and one such number."""
        stack: list[tuple[_Node[Item], str]] = [(self._root, "")]
        while stack:
            node, prefix = stack.pop()
            if node.leaf is not None:
                return node.leaf, prefix
            ch = pattern[len(prefix)]
            if ch == "*":
                for key, child in node.children.items():
                    stack.append((child, prefix + ("0" if key == "*" else key)))
            else:
                for key in ("*", ch):
                    match = node.children.get(key)
                    if match is not None:
                        stack.append((match, prefix + ch))
        return None
