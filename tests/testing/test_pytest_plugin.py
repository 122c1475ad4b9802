"""The pytest plugin, as a user's project meets it: a conftest giving the app, a test dialing."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytest_plugins = ["pytester"]

APP = """
from ivrhooks import IVRHooks, call

app = IVRHooks(receptionists=["8000"], auth="digest")

@app.dtmf("1")
async def sales(req):
    return call("2001")
"""

CONFTEST = """
import pytest
from routing import app

@pytest.fixture
def ivrhooks_app():
    return app

@pytest.fixture
def pbx():  # a name many projects use: the plugin takes none of theirs
    return "the project's own"
"""

TESTS = """
async def test_sales(ivrhooks_pbx):
    decision = await ivrhooks_pbx.dial(to="8000", caller="101", digits="1")
    assert decision.destination == "2001"

async def test_twice_on_one_app(ivrhooks_pbx):
    decision = await ivrhooks_pbx.dial(to="8000", caller="101", digits="1")
    assert decision.action == "call"

def test_a_project_keeps_its_own_pbx_fixture(pbx):
    assert pbx == "the project's own"

async def test_running_gives_the_app_url(ivrhooks_running):
    assert ivrhooks_running.url.startswith("http://127.0.0.1:")
"""


INI = "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"


def test_a_user_project_dials_its_app(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(routing=APP, conftest=CONFTEST, test_routing=TESTS)
    pytester.makeini(
        "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"
    )
    result = pytester.runpytest_subprocess("-p", "ivrhooks")
    result.assert_outcomes(passed=4)


def test_without_an_app_the_fixture_says_what_to_define(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_missing="async def test_x(ivrhooks_pbx):\n    pass\n")
    pytester.makeini(
        "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"
    )
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*define a fixture named `ivrhooks_app`*"])


def test_without_pytest_asyncio_the_fixtures_say_how_to_get_it(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A project without pytest-asyncio: its import fails (a stand-in shadows the installed one).
    blocked = pytester.mkdir("blocked")
    (blocked / "pytest_asyncio.py").write_text("raise ImportError('not installed here')\n")
    monkeypatch.setenv("PYTHONPATH", str(blocked))
    pytester.makepyfile(test_plain="def test_x(ivrhooks_pbx):\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:asyncio")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*need pytest-asyncio: pip install 'ivrhooks[[]testing[]]'*"])


def test_loading_the_plugin_loads_no_app_server_client_or_fake_pbx() -> None:
    # pytest loads the plugin in every run of every project where ivrhooks is installed, tests
    # of the fixtures or not (and in each subprocess of these tests): it must cost nothing
    # until a test asks for a fixture. The fixtures themselves are exercised above.
    script = (
        "import json, sys\n"
        "import ivrhooks.testing.pytest_plugin\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('starlette', 'httpx', 'uvicorn', 'pydantic') "
        "or m.startswith(('ivrhooks.app', 'ivrhooks.fakepbx', 'ivrhooks.server')))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    assert json.loads(done.stdout) == []
