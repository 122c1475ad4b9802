"""One ``ivrhooks fake-pbx`` process for the probe's tests, started once (each start is a
second or so of imports): each test probes a receptionist of its own there, so what one test
writes, leaves or removes is on a receptionist no other test looks at."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.cli.processes import fake_pbx_process
from tests.probe.processes import SHARED_RECEPTIONISTS, fresh_receptionist


@pytest.fixture(scope="session")
def shared_pbx() -> Iterator[str]:
    """The shared fake PBX's REST URL (login ``DEFAULT_USERNAME`` / ``DEFAULT_PASSWORD``)."""
    with fake_pbx_process(*(f"{ext}:Probe" for ext in SHARED_RECEPTIONISTS)) as pbx:
        yield pbx


@pytest.fixture
def receptionist() -> str:
    """A receptionist of :func:`shared_pbx` of this test's own."""
    return fresh_receptionist()
