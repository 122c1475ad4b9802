"""The dev page's browser fixtures: a Chromium (Playwright) per module, a tab per test, and
``ivrhooks run`` processes serving the quickstart and ``DEV_APP`` with their dev pages.

Each ``ivrhooks run`` is started once per session and shared by the modules (the tests already
shared one within a module: each looks at the calls it placed itself, or counts from what it saw
before). It is started by a session-scoped fixture and waited for by a function-scoped one, so
pytest (which sets up wider scopes first) starts a test module's browser while it boots.

Chromium stays per module: Playwright's sync API keeps its event loop marked running on this
thread while it is open, which the async tests of other modules would trip over.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.devui.browser import DEV_APP, Served, chromium, ivrhooks


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium: a Playwright ``BrowserContext``."""
    with chromium() as context:
        yield context


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A Chromium tab; the test fails if the page's scripts threw."""
    tab = browser.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    yield tab
    tab.close()
    assert errors == [], "the page's scripts failed"


@pytest.fixture(scope="session")
def quickstart_started(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """``ivrhooks run examples/quickstart.py`` with its dev page, started (maybe not ready)."""
    log = tmp_path_factory.mktemp("quickstart") / "run.log"
    with ivrhooks("run", "examples/quickstart.py", log, ready=False) as served:
        yield served


@pytest.fixture
def quickstart(quickstart_started: Served) -> Served:
    """``ivrhooks run examples/quickstart.py`` with its dev page, ready."""
    quickstart_started.wait_ready()
    return quickstart_started


@pytest.fixture(scope="session")
def devapp_started(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Served, Path]]:
    """``ivrhooks run`` on ``DEV_APP`` (written to a file of its own), started."""
    where = tmp_path_factory.mktemp("devapp")
    app_file = where / "devapp.py"
    app_file.write_text(DEV_APP)
    with ivrhooks("run", app_file, where / "run.log", ready=False) as served:
        yield served, app_file


@pytest.fixture
def devapp(devapp_started: tuple[Served, Path]) -> tuple[Served, Path]:
    """``ivrhooks run`` on ``DEV_APP`` with its dev page, ready."""
    devapp_started[0].wait_ready()
    return devapp_started
