"""The retry policy's decisions (pure), and the retrying layer that applies them, driven over
``httpx.MockTransport`` with an injected sleep: no waiting here."""

from __future__ import annotations

from collections.abc import Mapping

import httpx
import pytest

from ivrhooks.observe.tracing import AttributeValue
from ivrhooks.pbx.attempts import Tally, send_with_retries
from ivrhooks.pbx.ratelimit import RateBudget
from ivrhooks.pbx.retry import Retry, RetryPolicy

# --- what the policy retries -------------------------------------------------------------------

REQUEST = httpx.Request("POST", "http://pbx.test/api/ivrs")
NEVER_SENT = [httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout]
MAYBE_SENT = [httpx.ReadError, httpx.ReadTimeout, httpx.WriteError, httpx.RemoteProtocolError]


@pytest.mark.parametrize(
    ("error", "retry", "retried"),
    [(e, "all", True) for e in NEVER_SENT + MAYBE_SENT]
    + [(e, "connect", True) for e in NEVER_SENT]
    + [(e, "connect", False) for e in MAYBE_SENT],
    ids=lambda v: v.__name__ if isinstance(v, type) else str(v),
)
def test_connection_errors_are_retried_unless_a_create_may_have_reached_the_pbx(
    error: type[httpx.TransportError], retry: Retry, retried: bool
) -> None:
    policy = RetryPolicy(rand=lambda: 1.0)
    delay = policy.next_delay(error("x", request=REQUEST), attempt=1, waited=0.0, retry=retry)
    assert (delay is not None) is retried


@pytest.mark.parametrize("status", [200, 201, 204, 400, 401, 404, 422, 500, 429, 502, 503, 504])
@pytest.mark.parametrize("retry", ["all", "connect"])
def test_only_slow_down_statuses_are_retried_and_never_for_a_create(
    status: int, retry: Retry
) -> None:
    policy = RetryPolicy(rand=lambda: 1.0)
    delay = policy.next_delay(httpx.Response(status), attempt=1, waited=0.0, retry=retry)
    # A 503 may come from a proxy after the PBX acted: a create must not be repeated.
    assert (delay is not None) is (retry == "all" and status in (429, 502, 503, 504))


def test_retry_after_is_the_wait_up_to_its_cap() -> None:
    policy = RetryPolicy(max_retry_after=5.0, rand=lambda: 1.0)
    asked = httpx.Response(503, headers={"Retry-After": "2"})
    assert policy.next_delay(asked, attempt=1, waited=0.0, retry="all") == 2.0
    greedy = httpx.Response(429, headers={"Retry-After": "3600"})
    assert policy.next_delay(greedy, attempt=1, waited=0.0, retry="all") == 5.0
    assert policy.retry_after(httpx.Response(429)) is None


def test_attempts_and_total_wait_bound_the_retries() -> None:
    policy = RetryPolicy(max_attempts=3, max_time=1.0, base=0.25, rand=lambda: 1.0)
    busy = httpx.Response(503)
    assert policy.next_delay(busy, attempt=2, waited=0.25, retry="all") == 0.5
    assert policy.next_delay(busy, attempt=3, waited=0.0, retry="all") is None  # 3 tries made
    assert policy.next_delay(busy, attempt=2, waited=0.6, retry="all") is None  # 0.6 + 0.5 > 1


# --- the retrying layer ------------------------------------------------------------------------


class Scripted:
    """Answers each request with the next reply (a status, or an exception class to raise)."""

    def __init__(self, *replies: int | type[httpx.TransportError]) -> None:
        self.replies = list(replies)
        self.sent = 0
        self.client = httpx.AsyncClient(transport=httpx.MockTransport(self.handle))

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.sent += 1
        reply = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        if isinstance(reply, int):
            return httpx.Response(reply, headers={"Retry-After": "7"} if reply == 429 else {})
        raise reply("scripted", request=request)

    async def send(self) -> httpx.Response:
        return await self.client.post("http://pbx.test/api/ivrs")


class Sleeps:
    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


class Events:
    """A span that keeps its events' delays."""

    def __init__(self) -> None:
        self.delays: list[AttributeValue] = []

    def set(self, key: str, value: AttributeValue) -> None:
        pass

    def event(self, name: str, attributes: Mapping[str, AttributeValue]) -> None:
        assert name == "retry"
        self.delays.append(attributes["ivrhooks.retry.delay_s"])

    def fail(self, error_type: str, exception: BaseException | None = None) -> None:
        pass


async def _run(
    pbx: Scripted,
    policy: RetryPolicy,
    retry: Retry = "all",
    budget: RateBudget | None = None,
) -> tuple[httpx.Response | Exception, Tally, list[float]]:
    tally, sleeps, span = Tally(), Sleeps(), Events()
    outcome: httpx.Response | Exception
    async with pbx.client:
        try:
            outcome = await send_with_retries(
                pbx.send,
                policy,
                retry=retry,
                what="POST ivrs",
                tally=tally,
                span=span,
                budget=budget,
                sleep=sleeps,
            )
        except httpx.TransportError as exc:
            outcome = exc
    assert span.delays == sleeps.waits  # each wait is a retry event on the call's span
    return outcome, tally, sleeps.waits


def ONE() -> float:
    """The top of every jitter band."""
    return 1.0


async def test_the_layer_makes_max_attempts_tries_and_returns_the_last_answer() -> None:
    pbx = Scripted(503)
    outcome, tally, waits = await _run(pbx, RetryPolicy(max_attempts=3, base=0.1, rand=ONE))
    assert isinstance(outcome, httpx.Response) and outcome.status_code == 503
    assert (pbx.sent, tally.retries) == (3, 2)
    assert waits == [0.1, 0.2]


async def test_the_layer_stops_when_the_next_wait_would_pass_max_time() -> None:
    pbx = Scripted(502)
    policy = RetryPolicy(max_attempts=100, max_time=0.55, base=0.1, cap=0.2, rand=ONE)
    _, tally, waits = await _run(pbx, policy)
    # Each wait alone fits; their sum is what stops it: 0.1 + 0.2 + 0.2 = 0.5, and one more
    # 0.2 would make 0.7.
    assert waits == pytest.approx([0.1, 0.2, 0.2])
    assert (pbx.sent, tally.retries) == (4, 3)


async def test_the_layer_retries_a_create_only_while_it_never_reached_the_pbx() -> None:
    pbx = Scripted(httpx.ConnectError, httpx.ConnectTimeout, 201)
    outcome, tally, _ = await _run(pbx, RetryPolicy(base=0.1, rand=ONE), retry="connect")
    assert isinstance(outcome, httpx.Response) and outcome.status_code == 201
    assert (pbx.sent, tally.retries) == (3, 2)

    pbx = Scripted(httpx.ConnectError, httpx.ReadError, 201)
    outcome, tally, _ = await _run(pbx, RetryPolicy(base=0.1, rand=ONE), retry="connect")
    assert isinstance(outcome, httpx.ReadError)  # sent, the answer lost: the PBX may have acted
    assert (pbx.sent, tally.retries) == (2, 1)

    pbx = Scripted(503, 201)
    outcome, tally, _ = await _run(pbx, RetryPolicy(base=0.1, rand=ONE), retry="connect")
    assert isinstance(outcome, httpx.Response) and outcome.status_code == 503
    assert pbx.sent == 1


async def test_a_429_slows_the_budget_down_and_is_counted() -> None:
    budget = RateBudget(40)
    pbx = Scripted(429, 429, 200)
    policy = RetryPolicy(max_retry_after=5.0, rand=ONE)
    outcome, tally, waits = await _run(pbx, policy, budget=budget)
    assert isinstance(outcome, httpx.Response) and outcome.status_code == 200
    assert (tally.limited, tally.retries, budget.slowdowns) == (2, 2, 2)
    assert waits == [5.0, 5.0]  # the PBX asked for 7 s: cut to max_retry_after
    assert budget.current == 10
