"""A FakePBX served on loopback and a PBXClient logged in to it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from ivrhooks.pbx import PBXClient, RetryPolicy
from ivrhooks.testing import FakePBX, serve


@pytest.fixture
def fake() -> FakePBX:
    return FakePBX()


@pytest.fixture
async def base_url(fake: FakePBX) -> AsyncIterator[str]:
    async with serve(fake.app) as url:
        yield url + "/api"


@pytest.fixture
async def pbx(fake: FakePBX, base_url: str) -> AsyncIterator[PBXClient]:
    async with PBXClient(
        base_url, username=fake.username, password=fake.password, retry=RetryPolicy(base=0.001)
    ) as client:
        yield client


@pytest.fixture
async def pbx_inproc(fake: FakePBX) -> AsyncIterator[PBXClient]:
    """The client wired to the fake's ASGI app in-process: for tests whose point is not HTTP."""
    transport = httpx.ASGITransport(app=fake.app)
    async with PBXClient(
        "http://fake-pbx/api", username=fake.username, password=fake.password, transport=transport
    ) as client:
        yield client
