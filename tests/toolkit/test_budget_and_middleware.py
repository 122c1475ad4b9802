"""``req.budget()`` lets a handler answer itself; middleware runs around every route's handler."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator, Iterator

import pytest

from ivrhooks import ActionRequest, ConfigurationError, IVRHooks, ServingConfig, call, hangup
from ivrhooks.core.runner import CallNext
from ivrhooks.errors import InvalidArgumentError
from ivrhooks.testing import local, request, running


def _budget_app(reserve: float) -> IVRHooks:
    app = IVRHooks(receptionists=["8000"], serving=ServingConfig(deadline=0.5), env=False)

    @app.dtmf("1")
    async def account(req: ActionRequest) -> object:
        try:
            async with req.budget(reserve=reserve):
                await asyncio.sleep(30)  # a CRM that never answers in time
        except TimeoutError:
            return call("0")  # the handler still decides: the operator
        return call("2001")

    @app.fallback
    async def fallback(req: ActionRequest) -> object:
        return call("9")

    return app


@pytest.fixture
def no_collection() -> Iterator[None]:
    """No garbage collection while the budget runs out: a full one (tens of ms in this large
    test process) landing between the budget's timer and the handler's deadline would fire both
    at once, and the fallback would answer. What is tested is the mechanism, not a host's
    pauses."""
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@pytest.mark.parametrize("reserve", [0.0, 0.05])
@pytest.mark.usefixtures("no_collection")
async def test_a_handler_under_its_budget_answers_itself(reserve: float) -> None:
    async with local(_budget_app(reserve)) as ivr:
        r = await ivr.dial(to="8000", caller="101", digits="1")
    assert (r.destination, r.answered_by, r.cause) == ("0", "route", None)


@pytest.mark.usefixtures("no_collection")
async def test_over_http_too() -> None:
    async with running(_budget_app(0.0)) as ran:
        result = await ran.dial(to="8000", caller="101", digits="1")
    assert result.destination == "0"
    assert result.outcome is not None and result.outcome["answered_by"] == "route"


async def test_the_budget_of_a_request_made_for_a_unit_test() -> None:
    req = request(digits="1")
    left = req.time_left()
    assert 0 < left <= 1.4
    with pytest.raises(TimeoutError):
        async with req.budget(reserve=left):  # nothing left
            await asyncio.sleep(1)
    with pytest.raises(InvalidArgumentError, match="reserve=-1"):
        req.budget(reserve=-1)


def _middleware_app(order: list[str]) -> IVRHooks:
    app = IVRHooks(receptionists=["8000"], serving=ServingConfig(deadline=0.5), env=False)

    @app.resource
    async def blocklist() -> AsyncIterator[set[str]]:
        yield {"666"}

    @app.middleware
    async def outer(req: ActionRequest, call_next: CallNext, blocklist: set[str]) -> object:
        order.append("outer in")
        if req.caller in blocklist:
            return hangup()  # answers itself: the handler never runs
        decision = await call_next(req)
        order.append(f"outer out {decision.destination}")
        return decision

    @app.middleware
    async def inner(req: ActionRequest, call_next: CallNext) -> object:
        order.append("inner in")
        if req.digits == "9":
            raise RuntimeError("middleware broke")
        if req.digits == "8":
            await asyncio.sleep(30)
        decision = await call_next(req)
        order.append("inner out")
        return decision

    @app.dtmf("1;8;9", fallback=call("0"))
    async def sales(req: ActionRequest) -> object:
        order.append("handler")
        return call("2001")

    @app.dtmf("2")
    def sync_route(req: ActionRequest) -> object:
        order.append("sync handler")
        return "2002"

    return app


async def test_middleware_runs_outermost_first_around_every_route() -> None:
    order: list[str] = []
    async with local(_middleware_app(order)) as ivr:
        first = await ivr.dial(to="8000", caller="101", digits="1")
        second = await ivr.dial(to="8000", caller="101", digits="2")
    assert (first.destination, second.destination) == ("2001", "2002")
    assert order == [
        "outer in",
        "inner in",
        "handler",
        "inner out",
        "outer out 2001",
        "outer in",
        "inner in",
        "sync handler",
        "inner out",
        "outer out 2002",
    ]


async def test_middleware_may_answer_without_calling_the_handler() -> None:
    order: list[str] = []
    async with local(_middleware_app(order)) as ivr:
        r = await ivr.dial(to="8000", caller="666", digits="1")
    assert (r.action, r.answered_by) == ("hangup", "route")
    assert order == ["outer in"]


@pytest.mark.parametrize(("digits", "cause"), [("9", "error"), ("8", "timeout")])
async def test_a_failing_or_overrunning_middleware_goes_to_the_routes_fallback(
    digits: str, cause: str
) -> None:
    order: list[str] = []
    async with local(_middleware_app(order)) as ivr:
        r = await ivr.dial(to="8000", caller="101", digits=digits)
    assert (r.destination, r.answered_by, r.cause) == ("0", "fallback", cause)
    assert "handler" not in order


def test_middleware_must_be_async() -> None:
    app = IVRHooks(receptionists=["8000"], env=False)

    def sync(req: ActionRequest, call_next: CallNext) -> object:
        return call_next(req)

    with pytest.raises(ConfigurationError, match="give an async function"):
        app.middleware(sync)


def test_without_middleware_the_handler_is_run_as_it_is() -> None:
    app = IVRHooks(receptionists=["8000"], env=False)

    @app.dtmf("1")
    async def sales(req: ActionRequest) -> object:
        return call("2001")

    served = next(iter(app.build(app.configure({})).routes.values()))
    assert served.handler.function is sales and served.handler.middleware == ()
