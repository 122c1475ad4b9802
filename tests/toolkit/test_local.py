"""Fast unit tests: ``local(app)`` runs the app in process, ``request(...)`` builds a request for
calling a handler directly, and the pytest plugin hands both to a user's tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from ivrhooks import ActionRequest, IVRHooks, call, hangup, repeat
from ivrhooks.testing import local, request

pytest_plugins = ["pytester"]


def _pin_menu() -> IVRHooks:
    app = IVRHooks(receptionists=["8000", "8001"], env=False)

    @app.resource
    async def crm() -> AsyncIterator[dict[str, str]]:
        yield {"31234": "2468"}

    @app.caller("666", receptionists=["8000"])
    async def blocked(req: ActionRequest) -> object:
        return hangup()

    @app.dtmf("10000-99999", receptionists=["8000"])
    async def account(req: ActionRequest) -> object:
        session = await req.session()
        session["account"] = req.digits
        return call("8001")

    @app.dtmf("ALL", receptionists=["8001"])
    async def pin(req: ActionRequest, crm: dict[str, str]) -> object:
        session = await req.session()
        if crm.get(session["account"]) == req.digits:
            return call("2001")
        return call("0") if session.attempts >= 2 else repeat()

    return app


async def test_a_call_follows_forwards_across_receptionists_under_one_session() -> None:
    async with local(_pin_menu()) as ivr:
        right = await ivr.call("8000", "101", ["31234", "2468"])
        wrong = await ivr.call("8000", "101", ["31234", "1111", "2222", "3333"])
    assert [(h.receptionist, h.route, h.destination) for h in right.hops] == [
        ("8000", "account", "8001"),
        ("8001", "pin", "2001"),
    ]
    assert len({h.session_id for h in right.hops}) == 1
    assert [h.action for h in wrong.hops] == ["call", "repeat", "call"]
    assert wrong.last is not None and wrong.last.destination == "0"
    assert wrong.unused == ["3333"], "the call left the app before the last digits"


async def test_a_dial_is_one_request_and_says_what_answered() -> None:
    async with local(_pin_menu()) as ivr:
        keyed = await ivr.dial(to="8000", caller="101", digits="31234")
        arrived = await ivr.dial(to="8000", caller="666")
        nothing = await ivr.dial(to="8000", caller="101", digits="7")
        no_session = await ivr.dial(to="8001", caller="101", digits="2468")
    assert (keyed.route, keyed.action, keyed.destination, keyed.cause) == (
        "account",
        "call",
        "8001",
        None,
    )
    assert (arrived.kind, arrived.route, arrived.action) == ("CALLER", "blocked", "hangup")
    assert (nothing.route, nothing.decision) == (None, None), "the receptionist's own menu"
    # A fresh call at the PIN prompt has no account in its session: the handler fails.
    assert (no_session.cause, no_session.answered_by) == ("error", "default")
    assert no_session.where is not None and "test_local.py" in no_session.where


async def test_a_handler_called_directly_with_a_request() -> None:
    app = _pin_menu()
    account = next(r.handler for r in app.routes if r.name == "account")
    req = request(digits="31234")
    decision = await account(req)
    assert decision == call("8001")
    assert (req.to, req.caller, req.kind, req.digits) == ("8000", "101", "DTMF", "31234")
    assert req.session_id and 0 < req.time_left() <= 1.4
    assert dict(await req.session()) == {"account": "31234"}
    assert request().kind == "CALLER"


APP = """
from ivrhooks import IVRHooks, call

app = IVRHooks(receptionists=["8000"])

@app.resource
async def crm():
    raise ConnectionError("the real CRM is not reachable from tests")
    yield

@app.dtmf("1")
async def sales(req, crm):
    return call(crm["manager"])
"""

CONFTEST = """
import pytest
from routing import app

@pytest.fixture
def ivrhooks_app():
    return app

@pytest.fixture
def ivrhooks_resources():
    return {"crm": {"manager": "2001"}}
"""

TESTS = """
async def test_in_process(ivrhooks_local):
    r = await ivrhooks_local.dial(to="8000", caller="101", digits="1")
    assert (r.route, r.destination) == ("sales", "2001")

async def test_over_http(ivrhooks_pbx):
    decision = await ivrhooks_pbx.dial(to="8000", caller="101", digits="1")
    assert decision.destination == "2001"
"""


def test_the_plugin_reads_the_projects_resources_fixture(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(routing=APP, conftest=CONFTEST, test_routing=TESTS)
    pytester.makeini(
        "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"
    )
    result = pytester.runpytest_subprocess("-p", "ivrhooks")
    result.assert_outcomes(passed=2)
