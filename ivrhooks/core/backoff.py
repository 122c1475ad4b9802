"""How long to wait before trying again: capped exponential backoff with jitter.

Pure, randomness injected. Shared by the PBX client's retries (:mod:`ivrhooks.pbx.retry`), the
registration service and the event inbox's retries of a failing handler
(:mod:`ivrhooks.events.inbox`), which may import nothing that loads an HTTP library.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Literal

__all__ = ["Jitter", "backoff"]

#: How :func:`backoff` spreads a wait below its ceiling: "full" anywhere in ``[0, ceiling]``,
#: "equal" in ``[ceiling / 2, ceiling]``.
Jitter = Literal["full", "equal"]


def backoff(
    attempt: int,
    *,
    base: float,
    cap: float,
    rand: Callable[[], float] = random.random,
    jitter: Jitter = "full",
) -> float:
    """The wait before try ``attempt + 1``: capped exponential, jittered (``attempt`` >= 1).

    The ceiling is ``min(cap, base * 2 ** (attempt - 1))``; ``rand()`` in ``[0, 1)`` places the
    wait below it. Two styles, because the waits guard against different things (see
    "Exponential Backoff And Jitter", AWS Architecture Blog, 2015):

    - "full" for the client's retries: the requests of one reconcile fail together (a 503
      from a restarting PBX) and must not come back together; spreading them over the whole
      range does that best and wastes the least time.
    - "equal" where a try must never come straight back: the registration service's retries
      of a failed pass (a failure may be a refused login, and failed logins block the source
      address, reference/portsip.md §5) and the event handlers' retries (a failing downstream
      needs a rest). Half the ceiling is a floor.
    """
    ceiling = min(cap, base * 2.0 ** min(attempt - 1, 30))  # 2**30: no float overflow, ever
    if jitter == "equal":
        return ceiling / 2 + ceiling / 2 * rand()
    return ceiling * rand()
