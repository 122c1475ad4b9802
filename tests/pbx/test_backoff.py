"""The one backoff function: its bounds, and that the client and the registration service
both wait by it."""

from __future__ import annotations

import pytest

from ivrhooks.pbx.retry import Jitter, RetryPolicy, backoff
from ivrhooks.registration import Registration


@pytest.mark.parametrize("jitter", ["full", "equal"])
@pytest.mark.parametrize("attempt", [1, 2, 3, 5, 8, 64, 10_000])
@pytest.mark.parametrize("r", [0.0, 0.5, 0.999999])
def test_backoff_stays_within_its_jitter_band(jitter: Jitter, attempt: int, r: float) -> None:
    base, cap = 0.5, 3.0
    ceiling = min(cap, base * 2 ** min(attempt - 1, 30))
    wait = backoff(attempt, base=base, cap=cap, rand=lambda: r, jitter=jitter)
    low = 0.0 if jitter == "full" else ceiling / 2
    assert low <= wait <= ceiling
    assert wait == pytest.approx(low + (ceiling - low) * r)


def test_backoff_doubles_up_to_the_cap() -> None:
    top = [backoff(n, base=0.5, cap=3.0, rand=lambda: 1.0) for n in (1, 2, 3, 4, 5)]
    assert top == [0.5, 1.0, 2.0, 3.0, 3.0]
    floor = [backoff(n, base=0.5, cap=3.0, rand=lambda: 0.0, jitter="equal") for n in (1, 3, 9)]
    assert floor == [0.25, 1.0, 1.5]  # "equal" never comes straight back


def test_the_client_and_the_registration_service_share_the_backoff() -> None:
    policy = RetryPolicy(base=0.5, cap=3.0, rand=lambda: 0.25)
    assert [policy.delay(n) for n in (1, 2, 3)] == [
        backoff(n, base=0.5, cap=3.0, rand=lambda: 0.25) for n in (1, 2, 3)
    ]
    service = Registration(backoff_base=1.0, backoff_cap=60.0, rng=lambda: 0.25)
    assert [service.backoff(n) for n in (1, 4, 20)] == [
        backoff(n, base=1.0, cap=60.0, rand=lambda: 0.25, jitter="equal") for n in (1, 4, 20)
    ]
    assert service.backoff(20) == 37.5  # half the cap, plus a quarter of the other half
