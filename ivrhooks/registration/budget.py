"""A registration pass's time budget: a PBX that answers slowly enough must not hold the
background loop (and, with replicas, the registrar lease) for ever.

Each request has its own deadline (``PBXClient(deadline=...)``), but a pass makes many: a PBX
answering each just inside it, or paging a list that never ends, would keep one pass going for
hours. The pass is stopped at its budget, and fails like any other (retried with backoff,
``/readyz`` saying why).
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

from ivrhooks.errors import RegistrationError
from ivrhooks.registration.job import RegistrationJob

__all__ = ["BASE_BUDGET", "pass_budget", "within_budget"]

#: Seconds every pass gets, before what its size adds.
BASE_BUDGET = 300.0

T = TypeVar("T")


def pass_budget(job: RegistrationJob) -> float:
    """The default budget of a pass of ``job``: :data:`BASE_BUDGET`, plus two requests per
    action URL and one per receptionist at the PBX's rate (``IVRHOOKS_PBX_RATE``; 10,000 URLs
    at 40 a second add ~8 minutes), so a large registration is never cut for its size."""
    requests = 2 * sum(len(urls) for urls in job.state.values()) + len(job.state)
    return BASE_BUDGET + (requests / job.pbx.rate if job.pbx.rate else 0.0)


async def within_budget(work: Coroutine[Any, Any, T], budget: float) -> T:
    """``work``, cancelled after ``budget`` seconds with a :class:`RegistrationError` that
    names the budget and the argument that sets it."""
    timer = asyncio.timeout(budget)
    try:
        async with timer:
            return await work
    except TimeoutError:
        if not timer.expired():
            raise
        raise RegistrationError(
            f"the registration pass did not finish within its budget of {budget:g} s "
            "(Registration(pass_budget=...)): the PBX answers too slowly"
        ) from None
