"""Async handlers run their first step eagerly and continue under the deadline if they await."""

from __future__ import annotations

import asyncio
import contextvars

from ivrhooks.core.context import CallContext
from ivrhooks.core.deadline import Due
from ivrhooks.core.decisions import Decision, call, hangup
from ivrhooks.core.request import ActionRequest
from ivrhooks.core.runner import Runnable, decide

_seen: contextvars.ContextVar[str] = contextvars.ContextVar("seen", default="")


def new_request(deadline: float) -> ActionRequest:
    fields = {"from": "5551234", "to": "8000", "input": "1"}
    context = CallContext(Due(deadline, deadline))
    return ActionRequest.from_fields(fields, kind="DTMF", method="GET", context=context)


async def run(handler: object, budget: float = 5.0) -> tuple[Decision, str, str | None]:
    deadline = asyncio.get_running_loop().time() + budget
    outcome = await decide(
        Runnable(handler, True, handler),  # type: ignore[arg-type]
        None,
        new_request(deadline),
        executor=None,
    )
    return outcome.decision, outcome.handler, outcome.cause


async def test_a_handler_that_never_awaits_answers() -> None:
    async def handler(request: ActionRequest) -> Decision:
        return call("2001")

    assert await run(handler) == (call("2001"), "route", None)


async def test_a_handler_that_awaits_several_times_answers() -> None:
    async def handler(request: ActionRequest) -> Decision:
        await asyncio.sleep(0)
        future = asyncio.get_running_loop().create_future()
        asyncio.get_running_loop().call_soon(future.set_result, "2002")
        destination = await future
        await asyncio.sleep(0)
        return call(destination)

    assert await run(handler) == (call("2002"), "route", None)


async def test_an_exception_after_an_await_reaches_the_handler_first() -> None:
    async def handler(request: ActionRequest) -> Decision:
        future = asyncio.get_running_loop().create_future()
        asyncio.get_running_loop().call_soon(future.set_exception, ValueError("crm down"))
        try:
            await future
        except ValueError:
            return hangup()
        return call("2001")

    assert await run(handler) == (hangup(), "route", None)


async def test_an_exception_escaping_after_an_await_is_an_error() -> None:
    async def handler(request: ActionRequest) -> Decision:
        await asyncio.sleep(0)
        raise RuntimeError("boom")

    decision, handler_kind, cause = await run(handler)
    assert (decision.action, handler_kind, cause) == ("repeat", "default", "error")


async def test_an_overrunning_handler_is_cancelled_at_its_await() -> None:
    cancelled = asyncio.Event()

    async def handler(request: ActionRequest) -> Decision:
        await asyncio.sleep(0)  # suspended once already: the resumed path is the one cancelled
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return call("2001")

    decision, handler_kind, cause = await run(handler, budget=0.05)
    assert (decision.action, handler_kind, cause) == ("repeat", "default", "timeout")
    assert cancelled.is_set()


async def test_the_handler_keeps_the_request_context() -> None:
    _seen.set("request-context")

    async def handler(request: ActionRequest) -> Decision:
        before = _seen.get()
        await asyncio.sleep(0)
        return call("2001") if before == _seen.get() == "request-context" else hangup()

    assert await run(handler) == (call("2001"), "route", None)


async def test_a_deadline_the_loop_fires_early_is_still_a_timeout() -> None:
    # The loop runs a timer up to its clock resolution before its time; under load that made an
    # overrun read as the handler's own TimeoutError ("cause: error"). Widen the resolution so
    # the early firing always happens: the cause must still be the deadline.
    loop = asyncio.get_running_loop()
    resolution = loop._clock_resolution  # type: ignore[attr-defined]
    loop._clock_resolution = 0.04  # type: ignore[attr-defined]

    timers: list[asyncio.TimerHandle] = []

    def tick() -> None:  # other work wakes the loop inside the early window
        timers.append(loop.call_later(0.005, tick))

    tick()
    try:

        async def handler(request: ActionRequest) -> Decision:
            await asyncio.sleep(30)
            return call("2001")

        decision, handler_kind, cause = await run(handler, budget=0.05)
    finally:
        timers[-1].cancel()
        loop._clock_resolution = resolution  # type: ignore[attr-defined]
    assert (decision.action, handler_kind, cause) == ("repeat", "default", "timeout")


async def test_a_handlers_own_timeout_error_is_its_error_not_the_deadline() -> None:
    async def handler(request: ActionRequest) -> Decision:
        await asyncio.sleep(0)
        raise TimeoutError("the CRM did not answer")

    decision, handler_kind, cause = await run(handler, budget=5.0)
    assert (decision.action, handler_kind, cause) == ("repeat", "default", "error")
