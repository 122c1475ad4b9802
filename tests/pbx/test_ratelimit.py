"""The PBX rate budget: never more than the rate in any one-second window; a 429 lowers it.

Pure tests drive ``RateBudget`` with a fake clock; one test sends real requests through
``PBXClient`` to the fake PBX over loopback and reads the busiest second where the PBX sees it.
"""

from __future__ import annotations

import asyncio
import bisect

import pytest

from ivrhooks.conf.config import PBXConfig
from ivrhooks.conf.settings import Declared, resolve
from ivrhooks.errors import ConfigurationError, SettingError
from ivrhooks.pbx import PBXClient, RetryPolicy
from ivrhooks.pbx.ratelimit import DEFAULT_RATE, RECOVERY, WINDOW, RateBudget
from ivrhooks.testing import FakePBX


class FakeClock:
    """Time that moves only when the budget sleeps (or a test says so)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def busiest_second(times: list[float]) -> int:
    ordered = sorted(times)
    return max(bisect.bisect_left(ordered, t + 1.0) - i for i, t in enumerate(ordered))


async def send(budget: RateBudget, clock: FakeClock, count: int) -> list[float]:
    sent: list[float] = []
    for _ in range(count):
        await budget.acquire()
        sent.append(clock.now)
    return sent


@pytest.mark.parametrize(
    ("rate", "count"),
    [(1, 5), (5, 4), (5, 23), (40, 401), (83, 1000)],
    ids=["one-a-second", "a-small-job", "just-past-a-window", "default-rate", "portsip-5000"],
)
async def test_no_one_second_window_holds_more_than_the_rate(rate: int, count: int) -> None:
    clock = FakeClock()
    budget = RateBudget(rate, clock=clock, sleep=clock.sleep)
    sent = await send(budget, clock, count)
    assert len(sent) == count
    assert busiest_second(sent) <= rate


async def test_concurrent_callers_share_one_budget() -> None:
    clock = FakeClock()
    budget = RateBudget(10, clock=clock, sleep=clock.sleep)
    sent: list[float] = []

    async def one() -> None:
        await budget.acquire()
        sent.append(clock.now)

    # Reserve-then-sleep: every caller's slot is fixed before anyone sleeps.
    slots = [budget.reserve() for _ in range(35)]
    assert busiest_second(slots) <= 10
    await asyncio.gather(*(one() for _ in range(5)))
    assert busiest_second(slots + sent) <= 10


async def test_a_job_within_the_rate_never_waits() -> None:
    clock = FakeClock()
    budget = RateBudget(DEFAULT_RATE, clock=clock, sleep=clock.sleep)
    await send(budget, clock, DEFAULT_RATE)
    assert clock.sleeps == []


async def test_the_budget_paces_at_the_rate_over_time() -> None:
    clock = FakeClock()
    budget = RateBudget(20, clock=clock, sleep=clock.sleep)
    sent = await send(budget, clock, 200)
    elapsed = sent[-1] - sent[0]
    # 200 requests at 20 per window: 9 full windows after the first burst.
    assert elapsed == pytest.approx(9 * WINDOW)


async def test_a_429_halves_the_rate_and_it_climbs_back_over_a_minute() -> None:
    clock = FakeClock()
    budget = RateBudget(40, clock=clock, sleep=clock.sleep)
    budget.slow_down()
    assert budget.current == 20
    budget.slow_down()
    assert budget.current == 10
    start = clock.now
    sent = await send(budget, clock, 60)
    # Lowered windows hold no more than the lowered rate (it climbs a little while they pass).
    assert busiest_second([t for t in sent if t < start + 2]) <= 12
    clock.now += RECOVERY
    assert budget.current == 40


async def test_the_rate_never_drops_below_one_a_second() -> None:
    clock = FakeClock()
    budget = RateBudget(3, clock=clock, sleep=clock.sleep)
    for _ in range(10):
        budget.slow_down()
    assert budget.current == 1
    sent = await send(budget, clock, 4)
    assert busiest_second(sent) == 1


async def test_retry_after_pauses_every_new_request() -> None:
    clock = FakeClock()
    budget = RateBudget(40, clock=clock, sleep=clock.sleep)
    budget.slow_down(retry_after=7.0)
    start = clock.now
    sent = await send(budget, clock, 3)
    assert min(sent) >= start + 7.0


@pytest.mark.parametrize(
    "rate", [0, -1, 1001, 2.5, True], ids=["zero", "negative", "1001", "float", "bool"]
)
def test_a_bad_rate_is_refused(rate: object) -> None:
    with pytest.raises(ValueError, match="rate"):
        RateBudget(rate)  # type: ignore[arg-type]


# --- the setting ----------------------------------------------------------------------------

_LOGIN = {"IVRHOOKS_PBX_URL": "https://pbx.example.com:8887/api", "IVRHOOKS_PBX_TOKEN": "t0ken"}
_SECRET = {"IVRHOOKS_SECRET": "a-secret-long-enough-for-the-check-0123"}


@pytest.mark.parametrize(
    ("raw", "rate"),
    [(None, DEFAULT_RATE), ("100", 100), (" 1 ", 1), ("1000", 1000)],
    ids=["default", "hundred", "one", "max"],
)
def test_ivrhooks_pbx_rate_sets_the_budget(raw: str | None, rate: int) -> None:
    environ = {**_LOGIN, **_SECRET, **({"IVRHOOKS_PBX_RATE": raw} if raw else {})}
    config = resolve(Declared(), environ)
    assert config.pbx is not None and config.pbx.rate == rate


@pytest.mark.parametrize(
    "raw", ["0", "1001", "fast", "2.5"], ids=["zero", "too-high", "word", "fraction"]
)
def test_a_bad_ivrhooks_pbx_rate_names_the_variable(raw: str) -> None:
    with pytest.raises(ConfigurationError, match="IVRHOOKS_PBX_RATE"):
        resolve(Declared(), {**_LOGIN, **_SECRET, "IVRHOOKS_PBX_RATE": raw})


def test_pbx_config_checks_the_rate_in_code() -> None:
    assert PBXConfig("https://pbx.example.com/api", rate=None).rate is None
    with pytest.raises(SettingError, match=r"PBXConfig\(rate=0\)"):
        PBXConfig("https://pbx.example.com/api", rate=0)


# --- through the client, measured at the PBX ------------------------------------------------


async def test_the_fake_pbx_never_sees_more_than_the_rate_in_a_second(
    fake: FakePBX, base_url: str
) -> None:
    rate = 4
    # A window of 1.5 s: half a second of slack between a slot and the arrival, so a loaded
    # machine cannot make the PBX see a burst early (the default slack is 0.1 s).
    budget = RateBudget(rate, window=1.5)
    async with PBXClient(
        base_url, username=fake.username, password=fake.password, rate=budget
    ) as pbx:
        await asyncio.gather(*(pbx.request("GET", "ivr_servers") for _ in range(8)))
        assert budget.slowdowns == 0
    # 8 requests and the login: three windows' worth, each at most ``rate`` on arrival.
    assert len(fake.requests.times) == 9
    assert fake.requests.peak() <= rate


async def test_a_429_from_the_pbx_lowers_the_clients_rate(fake: FakePBX, base_url: str) -> None:
    async with PBXClient(
        base_url,
        username=fake.username,
        password=fake.password,
        rate=40,
        retry=RetryPolicy(base=0.001),
    ) as pbx:
        fake.fail_next(2, 429, retry_after="0")
        await pbx.request("GET", "ivr_servers")
        assert pbx.budget is not None
        assert pbx.budget.slowdowns == 2
        assert pbx.budget.current == 10


def test_a_window_under_a_second_is_refused() -> None:
    with pytest.raises(ValueError, match="window"):
        RateBudget(10, window=0.5)
