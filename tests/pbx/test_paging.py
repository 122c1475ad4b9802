"""Lists page transparently; filter, search and orderby reach the PBX."""

from __future__ import annotations

from typing import Any

import pytest

from ivrhooks.pbx import PBXClient
from ivrhooks.testing import FakePBX


@pytest.fixture
def many(fake: FakePBX) -> FakePBX:
    for n in range(250):
        fake.add_ivr(f"{8000 + n}", f"Desk {n:03d}")
    return fake


async def test_pages_over_250_receptionists(pbx: PBXClient, many: FakePBX) -> None:
    items = [s async for s in pbx.ivrs.list()]
    assert len(items) == 250
    assert len({s.id for s in items}) == 250
    assert many.counters.calls == 3  # 100 + 100 + 50: top is at most 100


async def test_smaller_pages(pbx: PBXClient, many: FakePBX) -> None:
    items = [s.extension_number async for s in pbx.ivrs.list(page_size=40)]
    assert items == [f"{8000 + n}" for n in range(250)]
    assert many.counters.calls == 7


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"filter": "extension_number eq '8007'"}, ["8007"]),
        ({"filter": "extension_number eq '8007' or extension_number eq '8010'"}, ["8007", "8010"]),
        ({"filter": "name eq 'Desk 001' and extension_number eq '8001'"}, ["8001"]),
        ({"filter": "name eq 'Desk 001' and extension_number eq '8002'"}, []),
        ({"filter": "startswith(extension_number,'824')"}, [f"824{n}" for n in range(10)]),
        (
            {
                "filter": "(extension_number eq '8001' or extension_number eq '8002') and "
                "name ne 'Desk 001'"
            },
            ["8002"],
        ),
        ({"search": "desk 24"}, [f"824{n}" for n in range(10)]),
        ({"search": "8123"}, ["8123"]),
        ({"search": "8123", "orderby": "name desc"}, ["8123"]),
    ],
    ids=[
        "eq",
        "or",
        "and",
        "and-none",
        "startswith",
        "parens-ne",
        "search-name",
        "search-ext",
        "search-orderby",
    ],
)
async def test_filter_and_search(
    pbx: PBXClient, many: FakePBX, kwargs: dict[str, Any], expected: list[str]
) -> None:
    assert [s.extension_number async for s in pbx.ivrs.list(**kwargs)] == expected


async def test_orderby_desc_across_pages(pbx: PBXClient, many: FakePBX) -> None:
    names = [s.name async for s in pbx.ivrs.list(orderby="name desc", page_size=100)]
    assert names == [f"Desk {n:03d}" for n in reversed(range(250))]
