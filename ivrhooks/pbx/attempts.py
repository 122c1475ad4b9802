"""The retrying layer: one PBX call's tries, as its :class:`~ivrhooks.pbx.retry.RetryPolicy`
allows them.

The policy decides (pure); this module only loops: send, ask the policy, wait, send again. It
sits above ``httpx.AsyncClient.send`` (so above the :class:`~ivrhooks.pbx.auth.BearerAuth`
flow), not in a transport: httpx routes requests to environment proxies through transports of
its own, which a wrapped transport would never see. A 429 also slows the client's
:class:`~ivrhooks.pbx.ratelimit.RateBudget` down: the PBX's word on its rate outranks ours.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

import httpx

from ivrhooks.observe.tracing import AttributeValue, Span
from ivrhooks.pbx.ratelimit import RateBudget
from ivrhooks.pbx.retry import Retry, RetryPolicy

__all__ = ["Tally", "send_with_retries"]

log = logging.getLogger("ivrhooks.pbx")


class Tally:
    """What one call's tries added up to (for its span and the observer)."""

    __slots__ = ("limited", "retries")

    def __init__(self) -> None:
        self.retries = 0
        self.limited = 0


async def send_with_retries(
    send: Callable[[], Awaitable[httpx.Response]],
    policy: RetryPolicy,
    *,
    retry: Retry,
    what: str,
    tally: Tally,
    span: Span,
    budget: RateBudget | None = None,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> httpx.Response:
    """``send()`` until it gives a response not to retry; the last connection error is raised.

    ``what`` names the call in log lines (``"GET ivrs"``); each retry is counted in ``tally``
    and is a ``retry`` event on ``span``. ``sleep`` and ``clock`` are injected for tests.
    """
    attempt = 0
    waited = 0.0
    while True:
        attempt += 1
        reason: dict[str, AttributeValue]
        try:
            response = await send()
        except httpx.TransportError as exc:
            delay = policy.next_delay(exc, attempt=attempt, waited=waited, retry=retry)
            if delay is None:
                raise
            log.info("%s failed (%s); retrying", what, type(exc).__name__)
            reason = {"error.type": type(exc).__name__}
        else:
            status = response.status_code
            if status == 429:
                tally.limited += 1
                if budget is not None:
                    budget.slow_down(policy.retry_after(response))
            delay = policy.next_delay(response, attempt=attempt, waited=waited, retry=retry)
            if delay is None:
                return response
            await response.aclose()
            log.info("%s -> %d; retrying in %.2fs", what, status, delay)
            reason = {"http.response.status_code": status}
        tally.retries += 1
        span.event("retry", {**reason, "ivrhooks.retry.delay_s": delay})
        started = clock()
        await sleep(delay)
        # A busy event loop oversleeps: count the time really spent against max_time.
        waited += max(delay, clock() - started)
