"""The dev page's browser fixtures: a Chromium (Playwright) per module, a tab per test, and
``ivrhooks run`` processes serving the quickstart and ``DEV_APP`` with their dev pages."""

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


@pytest.fixture(scope="module")
def quickstart(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """``ivrhooks run examples/quickstart.py`` with its dev page."""
    log = tmp_path_factory.mktemp("quickstart") / "run.log"
    with ivrhooks("run", "examples/quickstart.py", log) as served:
        yield served


@pytest.fixture(scope="module")
def devapp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Served, Path]]:
    """``ivrhooks run`` on ``DEV_APP`` (written to a file of its own) with its dev page."""
    where = tmp_path_factory.mktemp("devapp")
    app_file = where / "devapp.py"
    app_file.write_text(DEV_APP)
    with ivrhooks("run", app_file, where / "run.log") as served:
        yield served, app_file
