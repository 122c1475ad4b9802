"""One ``ivrhooks fake-pbx`` process for the ``ivrhooks dev --pbx`` tests, started once (each
start is a second or so of imports): each test takes receptionists of its own there
(:func:`tests.dev.session.fresh_receptionists`), so what one test's session registers, leaves
or removes is on receptionists no other test looks at."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.cli.processes import fake_pbx_process
from tests.dev.session import SHARED_RECEPTIONISTS


@pytest.fixture(scope="session")
def shared_pbx() -> Iterator[str]:
    """The shared fake PBX's REST URL (login ``DEFAULT_USERNAME`` / ``DEFAULT_PASSWORD``)."""
    ivrs = [ivr for main, dev in SHARED_RECEPTIONISTS for ivr in (f"{main}:Main", f"{dev}:Dev")]
    with fake_pbx_process(*ivrs) as pbx:
        yield pbx
