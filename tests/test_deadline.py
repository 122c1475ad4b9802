"""One deadline from the configuration to the timer: the handler's slice, then the fallback's
reserve, and ``req.time_left()`` telling the handler its own time."""

from __future__ import annotations

import asyncio

import pytest

from ivrhooks import ActionRequest, IVRHooks, ServingConfig, call
from ivrhooks.core.deadline import Deadline
from ivrhooks.testing import running


@pytest.mark.parametrize(("budget", "reserve"), [(1.5, 0.1), (0.5, 0.05), (3.0, 0.1)])
def test_the_budget_is_split_once(budget: float, reserve: float) -> None:
    deadline = Deadline.of(budget)
    assert deadline.reserve == pytest.approx(reserve)
    due = deadline.start(100.0)
    assert due.handler == pytest.approx(100.0 + budget - reserve)
    assert due.answer == pytest.approx(100.0 + budget)
    assert deadline.handler_budget == pytest.approx(due.handler - 100.0)


def _app(budget: float) -> tuple[IVRHooks, list[float]]:
    app = IVRHooks(receptionists=["8000"], serving=ServingConfig(deadline=budget), env=False)
    told: list[float] = []

    @app.dtmf("1")
    async def account(req: ActionRequest) -> object:
        told.append(req.time_left())
        try:
            # The handler bounds its own slow call by its time left, less a small margin.
            async with asyncio.timeout(req.time_left() - 0.02):
                await asyncio.sleep(30)  # a CRM that never answers in time
        except TimeoutError:
            return call("0")  # the handler answers itself: the operator
        return call("2001")

    @app.fallback
    async def fallback(req: ActionRequest) -> object:
        return call("9")

    return app, told


@pytest.mark.parametrize("budget", [0.5, 1.5])
async def test_a_handler_bounded_by_time_left_answers_itself(budget: float) -> None:
    app, told = _app(budget)
    async with running(app) as ran:
        result = await ran.dial(to="8000", caller="101", digits="1")
    assert (result.status, result.destination) == (200, "0"), "the handler's answer, not 9"
    assert result.outcome is not None
    assert result.outcome["answered_by"] == "route"
    assert result.outcome["cause"] is None
    # What it was told is its own slice: never more than the budget less the reserve.
    assert 0 < told[0] <= Deadline.of(budget).handler_budget
