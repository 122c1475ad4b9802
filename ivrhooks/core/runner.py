"""Run a handler under a deadline, and fall back when it does not produce a decision in time.

The PBX waits ``request_timeout`` seconds (default 2) for an answer, and what it does after a
timeout or a bad answer is not documented (``portsip.md`` §2), so every request gets a valid
decision before its deadline: an async handler that overruns is cancelled; a sync handler runs in
a thread, which may finish later but never delays the answer. A sync handler runs in a copy of
the caller's context (``contextvars``, as ``asyncio.to_thread`` does), so what the request set
there, the current span included, is what the handler sees.

With tracing on, each handler (and the fallback) runs inside a span of its own, current while it
runs, so the spans of the handler's own calls (a CRM client) are its children.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
import logging
from collections.abc import Awaitable, Callable, Coroutine, Generator
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypeVar

from ivrhooks.core.blame import handler_location, user_location
from ivrhooks.core.context import Failure
from ivrhooks.core.decisions import Decision, InvalidDecisionError, coerce_decision, repeat
from ivrhooks.core.request import ActionRequest, Handler
from ivrhooks.core.tracebacks import exception_type, log_exception
from ivrhooks.core.types import FallbackCause
from ivrhooks.errors import SessionError

_T = TypeVar("_T")

__all__ = [
    "CallNext",
    "FallbackCause",
    "HandlerTrace",
    "Middleware",
    "Outcome",
    "Runnable",
    "decide",
]

logger = logging.getLogger("ivrhooks.handler")


@dataclass(slots=True)
class Outcome:
    """What answered a request and why."""

    decision: Decision
    handler: Literal["route", "fallback", "default"]
    """``"route"``, ``"fallback"`` or ``"default"`` (the built-in ``repeat()``)."""
    cause: FallbackCause | None = None
    deadline_hit: bool = False
    error: str | None = None
    """What went wrong with the route's handler (``ZeroDivisionError: division by zero``)."""
    where: str | None = None
    """Where, in the user's code: ``app.py:14``."""


CallNext = Callable[[ActionRequest], Awaitable[Decision]]
"""What a middleware calls to go on: the next middleware, or the route's handler."""
Middleware = Callable[[ActionRequest, CallNext], Awaitable[Any]]
"""``async def (req, call_next) -> Decision`` around every route's handler (``@app.middleware``)."""


@dataclass(frozen=True, slots=True)
class Runnable:
    """A handler as the runner calls it, decided once when the app is built."""

    function: Callable[[ActionRequest], Any]
    """Called with the request: the user's function, or it bound to its resources."""
    is_async: bool
    """Whether the user's function is a coroutine function (``inspect`` is not free per call)."""
    origin: Handler
    """The user's function: where a failure is blamed, what a span is named after."""
    middleware: tuple[Middleware, ...] = ()
    """The app's middleware around it, outermost first (route handlers only)."""

    @classmethod
    def of(
        cls,
        handler: Handler,
        bound: Callable[[ActionRequest], Any] | None = None,
        middleware: tuple[Middleware, ...] = (),
    ) -> Runnable:
        """``handler`` (called as ``bound`` when its resources are passed to it)."""
        function = bound if bound is not None else handler
        return cls(function, inspect.iscoroutinefunction(handler), handler, middleware)


class HandlerTrace(Protocol):
    """A span around each handler run (:class:`ivrhooks.tracing.Tracing` is one)."""

    def begin(self, what: str, request: ActionRequest, handler: Handler) -> object: ...

    def end(self, token: object, failure: str | None, exception: BaseException | None) -> None: ...


@dataclass(slots=True)
class _Failure:
    cause: FallbackCause
    error: str
    where: str | None
    exception: BaseException | None = None


async def _invoke(
    runnable: Runnable, request: ActionRequest, deadline: float, executor: Executor | None
) -> Decision:
    handler = runnable.function
    if runnable.is_async or runnable.middleware:
        chained = runnable.middleware
        coroutine = _chain(runnable, request, executor) if chained else handler(request)
        # Run the first step now: most handlers decide without awaiting anything, and one that
        # never suspends cannot be interrupted by a deadline anyway (cancellation happens only at
        # an await), so arming a timer for it is pure cost (a quarter of the endpoint's time).
        try:
            pending = coroutine.send(None)
        except StopIteration as done:
            return coerce_decision(done.value)
        result = await _within(deadline, _Resumed(coroutine, pending))
    else:
        run = contextvars.copy_context().run
        future = asyncio.get_running_loop().run_in_executor(executor, run, handler, request)
        result = await _within(deadline, future)
    return coerce_decision(result)


async def _chain(runnable: Runnable, request: ActionRequest, executor: Executor | None) -> Decision:
    """The middleware around the handler, outermost first: each may answer itself, or call
    ``call_next`` (and may change the request it passes on). All inside the handler's deadline."""
    middleware = runnable.middleware

    async def at(index: int, req: ActionRequest) -> Decision:
        if index == len(middleware):
            if runnable.is_async:
                return coerce_decision(await runnable.function(req))
            run = contextvars.copy_context().run
            loop = asyncio.get_running_loop()
            return coerce_decision(
                await loop.run_in_executor(executor, run, runnable.function, req)
            )
        return coerce_decision(await middleware[index](req, functools.partial(at, index + 1)))

    return await at(0, request)


class _Overran(Exception):
    """The deadline's own timeout fired (not a TimeoutError of the handler's)."""


async def _within(deadline: float, awaitable: Awaitable[_T]) -> _T:
    """``await awaitable`` until ``deadline``; :class:`_Overran` when the deadline ended it.

    Told apart by the timeout itself (``expired()``), not by reading the clock afterwards:
    the loop runs a timer up to its clock resolution early, so "now >= deadline" can be false
    when the deadline fired, and a handler's own TimeoutError near the deadline is its error.
    """
    timeout = asyncio.timeout_at(deadline)
    try:
        async with timeout:
            return await awaitable
    except TimeoutError:
        if timeout.expired():
            raise _Overran from None
        raise


class _Resumed:
    """Awaitable that carries on a coroutine already started by ``send(None)``.

    It relays what the running task sends or throws (a cancellation by the deadline included)
    into the coroutine, and the coroutine's yields back to the task: ``yield from`` (PEP 380),
    except that the first value was already yielded before the task saw it.
    """

    __slots__ = ("_coroutine", "_pending")

    def __init__(self, coroutine: Coroutine[Any, Any, object], pending: object) -> None:
        self._coroutine = coroutine
        self._pending = pending

    def __await__(self) -> Generator[Any, Any, object]:
        coroutine, pending = self._coroutine, self._pending
        while True:
            try:
                sent = yield pending
            except GeneratorExit:
                coroutine.close()
                raise
            except BaseException as exc:
                try:
                    pending = coroutine.throw(exc)
                except StopIteration as done:
                    return done.value
            else:
                try:
                    pending = coroutine.send(sent)
                except StopIteration as done:
                    return done.value


async def _attempt(
    runnable: Runnable,
    request: ActionRequest,
    deadline: float,
    executor: Executor | None,
    what: str,
) -> tuple[Decision | None, _Failure | None]:
    """Run one handler; on failure log why (with the traceback and the user's line) and say
    which cause it was."""
    handler = runnable.origin
    extra = {"route": request.route, "session_id": request.session_id}
    context = request.context
    try:
        decision = await _invoke(runnable, request, deadline, executor)
        loaded = context.take_session()
        if loaded is not None:
            # A decision: the session's changes are kept (inside the deadline, like the handler).
            assert context.sessions is not None and request.session_id is not None
            await _within(deadline, context.sessions.save(request.session_id, loaded))
        return decision, None
    except SessionError as exc:
        # Said in one line, no traceback: the session could not be used (no session_id from
        # the PBX, or too large); nothing is saved and the fallback answers.
        where = user_location(exc.__traceback__) or handler_location(handler)
        logger.error(
            "%s could not use the call's session: %s", what, exc, extra={**extra, "where": where}
        )
        return None, _Failure("session", str(exc), where, exc)
    except _Overran:
        where = handler_location(handler)
        logger.error("%s overran its deadline", what, extra={**extra, "where": where})
        return None, _Failure("timeout", "overran the deadline", where)
    except InvalidDecisionError as exc:
        failure = _Failure("invalid", str(exc), handler_location(handler), exc)
        logger.error(
            "%s returned an invalid decision: %s",
            what,
            exc,
            extra={**extra, "where": failure.where},
        )
        return None, failure
    except Exception as exc:
        failure = _Failure("error", _summary(exc), user_location(exc.__traceback__), exc)
    finally:
        context.take_session()  # a failed handler saves nothing; the fallback reads afresh
    failure.where = failure.where or handler_location(handler)
    raised = failure.exception
    assert raised is not None
    # Out of the except block (the finally ran first), so sys.exc_info() is empty here: the
    # exception is passed in, and logged by type and stack only (its message may name the
    # caller).
    log_exception(
        logger,
        "%s raised %s",
        what,
        exception_type(raised),
        exc=raised,
        extra={**extra, "where": failure.where},
    )
    return None, failure


async def _traced(
    trace: HandlerTrace,
    runnable: Runnable,
    request: ActionRequest,
    deadline: float,
    executor: Executor | None,
    what: str,
) -> tuple[Decision | None, _Failure | None]:
    """:func:`_attempt` inside the handler's span (the eager first step included)."""
    token = trace.begin(what, request, runnable.origin)
    failure: _Failure | None = None
    try:
        decision, failure = await _attempt(runnable, request, deadline, executor, what)
    finally:
        if failure is None:
            trace.end(token, None, None)
        else:
            trace.end(token, failure.cause, failure.exception)
    return decision, failure


def _summary(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


async def decide(
    handler: Runnable | None,
    fallback: Runnable | None,
    request: ActionRequest,
    *,
    executor: Executor | None,
    cause: FallbackCause | None = None,
    trace: HandlerTrace | None = None,
) -> Outcome:
    """The decision for ``request``: the handler's, else the fallback's, else ``repeat()``.

    ``handler=None`` (with a ``cause``) goes straight to the fallback. The handler must finish
    by its due time (``request.context.due.handler``); the fallback by the answer's, which
    leaves it the reserved end of the budget (:mod:`ivrhooks.core.deadline`). ``trace`` puts
    each run in a span (``None``: no tracing, nothing extra runs).
    """
    due = request.context.due
    failure: _Failure | None = None
    attempt = _attempt if trace is None else functools.partial(_traced, trace)
    if handler is not None:
        decision, failure = await attempt(handler, request, due.handler, executor, "handler")
        if decision is not None:
            return Outcome(decision, "route")
        assert failure is not None
        cause = failure.cause
    deadline_hit = cause == "timeout"
    error = failure.error if failure is not None else None
    where = failure.where if failure is not None else None
    if fallback is not None:
        assert cause is not None
        raised = failure.exception if failure is not None else None
        request.context.failure = Failure(cause, type(raised).__name__ if raised else None)
        decision, fallback_failure = await attempt(
            fallback, request, due.answer, executor, "fallback"
        )
        if decision is not None:
            return Outcome(decision, "fallback", cause, deadline_hit, error, where)
        assert fallback_failure is not None
        deadline_hit = deadline_hit or fallback_failure.cause == "timeout"
        if error is None:
            error, where = f"the fallback failed: {fallback_failure.error}", fallback_failure.where
    return Outcome(repeat(), "default", cause, deadline_hit, error, where)
