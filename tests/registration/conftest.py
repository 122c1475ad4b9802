from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from ivrhooks.testing import FakePBX, serve


@pytest.fixture
def fake() -> FakePBX:
    pbx = FakePBX()
    pbx.add_ivr("8000", "Main")
    pbx.add_ivr("8001", "Support")
    return pbx


@pytest.fixture
async def pbx_base(fake: FakePBX) -> AsyncIterator[str]:
    async with serve(fake.app) as base:
        yield base
