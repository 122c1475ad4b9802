"""Fixtures: the document as a checker, and a fake PBX served on loopback with both sides of
every exchange recorded (the client's transport and an ASGI middleware around the fake)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field

import pytest

from ivrhooks.pbx import PBXClient
from ivrhooks.testing import FakePBX, serve
from tests.conformance.capture import Exchange, RecordingASGI, RecordingTransport
from tests.conformance.spec import Spec, load

SPEC = load()


@pytest.fixture(scope="session")
def spec() -> Spec:
    return SPEC


@dataclass
class Wire:
    """Both recordings of one served fake PBX."""

    url: str  # the REST base, /api included
    fake_side: RecordingASGI
    client_side: list[RecordingTransport] = field(default_factory=list)

    def client(self, fake: FakePBX, **options: object) -> PBXClient:
        """A client logged in to ``fake`` whose exchanges are recorded."""
        transport = RecordingTransport()
        self.client_side.append(transport)
        return PBXClient(
            self.url,
            username=fake.username,
            password=fake.password,
            transport=transport,
            **options,  # type: ignore[arg-type]
        )

    @property
    def exchanges(self) -> list[Exchange]:
        client = [e for t in self.client_side for e in t.exchanges]
        return client + self.fake_side.exchanges


def violations(spec: Spec, exchanges: Iterable[Exchange]) -> list[str]:
    return [problem for exchange in exchanges for problem in spec.violations(exchange)]


@pytest.fixture
async def wire(fake: FakePBX) -> AsyncIterator[Wire]:
    recorder = RecordingASGI(fake.app)
    async with serve(recorder) as base:
        yield Wire(base + "/api", recorder)


@pytest.fixture
def fake() -> FakePBX:
    return FakePBX()
