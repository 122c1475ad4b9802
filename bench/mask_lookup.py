"""How mask matching and overlap checks scale: prints figures, asserts nothing.

    python bench/mask_lookup.py

Each figure is the best of several runs (the least disturbed by other processes).
Entries are a mix of exact numbers, ranges and ``*`` patterns, all 7 digits wide and disjoint;
inputs are a mix of hits on every form and misses.
"""

from __future__ import annotations

import platform
import random
import sys
import time
import timeit
from collections.abc import Callable
from pathlib import Path

# Run from a checkout: measure this tree's ivrhooks, not whichever one is installed.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ivrhooks.core.masks import Mask, MaskIndex, parse_mask

REPEATS = 5


def entry(i: int) -> str:
    """Entry number ``i``: its own 5-digit prefix keeps every entry disjoint from the others."""
    prefix = f"{i:05d}"
    form = i % 3
    if form == 0:
        return prefix + "00"
    if form == 1:
        return f"{prefix}10-{prefix}49"
    return prefix + "*5"


def inputs_for(count: int, rng: random.Random) -> list[str]:
    """Hits on random entries of the first ``count`` (each form), plus as many misses."""
    values: list[str] = []
    for _ in range(500):
        i = rng.randrange(count)
        prefix = f"{i:05d}"
        values.append(
            [prefix + "00", prefix + str(rng.randint(10, 49)), prefix + f"{rng.randint(0, 9)}5"][
                i % 3
            ]
        )
        values.append(prefix + "99")  # a miss that walks as deep as a hit
    return values


def ns_per_call(func: Callable[[str], object], values: list[str]) -> float:
    def run() -> None:
        for value in values:
            func(value)

    best = min(timeit.repeat(run, number=5, repeat=REPEATS))
    return best / (5 * len(values)) * 1e9


def best_seconds(func: Callable[[], object]) -> float:
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def build_index(masks: list[Mask]) -> MaskIndex[int]:
    index: MaskIndex[int] = MaskIndex("DTMF")
    for n, mask in enumerate(masks):
        index.add(mask, n)
    return index


def main() -> None:
    rng = random.Random(7)
    print(
        f"Python {platform.python_version()} ({platform.python_implementation()}) on {sys.platform}"
    )

    small_text = ";".join(entry(i) for i in range(10))
    large_text = ";".join(entry(i) for i in range(10_000))
    parse_large = best_seconds(lambda: parse_mask(large_text, "DTMF"))
    small, large = parse_mask(small_text, "DTMF"), parse_mask(large_text, "DTMF")
    small_ns = ns_per_call(small.matches, inputs_for(10, rng))
    large_ns = ns_per_call(large.matches, inputs_for(10_000, rng))
    print("\nMask.matches")
    print(f"  10-entry mask       {small_ns:8.0f} ns per input")
    print(f"  10,000-entry mask   {large_ns:8.0f} ns per input")
    print(f"  ratio               {large_ns / small_ns:8.2f}x")
    print(f"  parse_mask, 10,000 entries (overlap checks included): {parse_large * 1e3:.1f} ms")

    small_masks = [parse_mask(entry(i), "DTMF") for i in range(10)]
    large_masks = [parse_mask(entry(i), "DTMF") for i in range(10_000)]
    small_index, large_index = build_index(small_masks), build_index(large_masks)
    small_ns = ns_per_call(small_index.lookup, inputs_for(10, rng))
    large_ns = ns_per_call(large_index.lookup, inputs_for(10_000, rng))
    print("\nMaskIndex.lookup")
    print(f"  10-mask index       {small_ns:8.0f} ns per input")
    print(f"  10,000-mask index   {large_ns:8.0f} ns per input")
    print(f"  ratio               {large_ns / small_ns:8.2f}x")

    texts = [entry(i) for i in range(10_000)]
    rng.shuffle(texts)  # insertion order must not matter
    add_only = best_seconds(lambda: build_index(large_masks))
    with_parse = best_seconds(lambda: build_index([parse_mask(t, "DTMF") for t in texts]))
    print("\nBuilding a 10,000-route MaskIndex (every add checks for overlaps)")
    print(f"  add only            {add_only * 1e3:8.1f} ms")
    print(f"  parse + add         {with_parse * 1e3:8.1f} ms")


if __name__ == "__main__":
    main()
