"""Retries: what is retried, what is not, and how long the client waits."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from ivrhooks.pbx import PBXAPIError, PBXClient, PBXConnectionError
from ivrhooks.pbx.retry import RetryPolicy, parse_retry_after
from ivrhooks.testing import FakePBX, free_port

Call = Callable[[PBXClient, str], Awaitable[object]]

FAST = RetryPolicy(base=0.001)


@pytest.mark.parametrize("status", [429, 502, 503, 504])
@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda p, i: p.ivrs.get(i), id="get"),
        pytest.param(lambda p, i: p.ivrs.update(i, name="New"), id="update"),
        pytest.param(lambda p, i: p.ivrs.destroy(i), id="destroy"),
    ],
)
async def test_idempotent_requests_are_retried(
    pbx: PBXClient, fake: FakePBX, call: Call, status: int
) -> None:
    ivr_id = fake.add_ivr("8000", "Main")
    await pbx.ivrs.status(ivr_id)  # log in first: faults hit resource endpoints only
    fake.fail_next(2, status)
    await call(pbx, ivr_id)
    assert fake.faults.failed == 2
    assert fake.counters.calls == 2  # the status call and the one that got through


async def test_create_is_not_retried_after_a_503(pbx: PBXClient, fake: FakePBX) -> None:
    await pbx.ivrs.status(fake.add_ivr("8000", "Main"))
    fake.fail_next(1, 503)
    with pytest.raises(PBXAPIError) as info:
        await pbx.ivrs.create(name="Sales", extension_number="8001", pin="582046")
    # A 503 may come from a proxy after the PBX acted: repeating could duplicate the resource.
    assert info.value.status == 503
    assert fake.faults.failed == 1
    assert [i.extension_number for i in fake.ivrs()] == ["8000"]
    assert await pbx.ivrs.create(name="Sales", extension_number="8001", pin="582046")


async def test_retries_stop_after_max_attempts(fake: FakePBX, base_url: str) -> None:
    async with PBXClient(
        base_url,
        username="admin",
        password="fakepbx",
        retry=RetryPolicy(max_attempts=3, base=0.001),
    ) as pbx:
        await pbx.ivrs.status(fake.add_ivr("8000", "Main"))
        fake.fail_next(10, 503)
        with pytest.raises(PBXAPIError) as info:
            [s async for s in pbx.ivrs.list()]
    assert info.value.status == 503
    assert fake.faults.failed == 3


async def test_retry_after_is_honoured_but_bounded(fake: FakePBX, base_url: str) -> None:
    async with PBXClient(
        base_url, username="admin", password="fakepbx", retry=RetryPolicy(max_retry_after=0.01)
    ) as pbx:
        await pbx.ivrs.status(fake.add_ivr("8000", "Main"))
        fake.fail_next(1, 429, retry_after="3600")  # cut to max_retry_after, or this test hangs
        assert [s.name async for s in pbx.ivrs.list()] == ["Main"]
    assert fake.faults.failed == 1


async def test_total_retry_time_is_bounded(fake: FakePBX, base_url: str) -> None:
    no_waits = RetryPolicy(max_time=0.0)
    async with PBXClient(base_url, username="admin", password="fakepbx", retry=no_waits) as pbx:
        await pbx.ivrs.status(fake.add_ivr("8000", "Main"))
        fake.fail_next(1, 503, retry_after="1")
        with pytest.raises(PBXAPIError):
            [s async for s in pbx.ivrs.list()]
    assert fake.faults.failed == 1


def _dead_url() -> str:
    return f"http://127.0.0.1:{free_port()}/api"  # nothing listens: connections are refused


class Counting(httpx.AsyncBaseTransport):
    """The real transport, counting the requests handed to it."""

    def __init__(self) -> None:
        self.sent = 0
        self.inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent += 1
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


@pytest.mark.parametrize("attempts", [1, 3])
async def test_connection_refused_is_retried_then_reported(attempts: int) -> None:
    transport = Counting()
    policy = RetryPolicy(max_attempts=attempts, base=0.001)
    async with PBXClient(_dead_url(), token="t", retry=policy, transport=transport) as pbx:
        with pytest.raises(PBXConnectionError) as info:
            await pbx.ivrs.create(name="Main", extension_number="8000", pin="582046")
    assert info.value.reached is False
    assert (info.value.method, info.value.path) == ("POST", "ivrs")
    assert transport.sent == attempts  # a create that never left is retried as the policy says


class FlakyConnect(httpx.AsyncBaseTransport):
    """The real transport, except that the first ``n`` connections are refused."""

    def __init__(self, n: int) -> None:
        self.left = n
        self.inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.left > 0 and request.url.path.endswith("/ivrs"):
            self.left -= 1
            raise httpx.ConnectError("connection refused", request=request)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


async def test_create_is_retried_when_it_never_reached_the_pbx(
    fake: FakePBX, base_url: str
) -> None:
    transport = FlakyConnect(2)
    async with PBXClient(
        base_url, username="admin", password="fakepbx", retry=FAST, transport=transport
    ) as pbx:
        ivr_id = await pbx.ivrs.create(name="Main", extension_number="8000", pin="582046")
    assert transport.left == 0
    assert [i.id for i in fake.ivrs()] == [ivr_id]  # exactly one, despite two attempts


class ReadFails(FlakyConnect):
    posts = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path.endswith("/ivrs"):
            self.posts += 1
            # Sent, then the answer was lost: the PBX may have created it.
            await self.inner.handle_async_request(request)
            raise httpx.ReadError("connection reset", request=request)
        return await self.inner.handle_async_request(request)


async def test_create_is_not_retried_when_it_may_have_reached_the_pbx(
    fake: FakePBX, base_url: str
) -> None:
    transport = ReadFails(0)
    async with PBXClient(
        base_url, username="admin", password="fakepbx", retry=FAST, transport=transport
    ) as pbx:
        with pytest.raises(PBXConnectionError) as info:
            await pbx.ivrs.create(name="Main", extension_number="8000", pin="582046")
    assert info.value.reached is True
    assert transport.posts == 1  # one try, though the policy allows four
    assert len(fake.ivrs()) == 1  # not two


def test_backoff_is_exponential_jittered_and_capped() -> None:
    top = RetryPolicy(base=0.5, cap=3.0, rand=lambda: 1.0)
    assert [top.delay(n) for n in (1, 2, 3, 4, 5)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert RetryPolicy(base=0.5, rand=lambda: 0.25).delay(2) == 0.25
    assert RetryPolicy(max_retry_after=5).delay(1, retry_after=60) == 5
    policy = RetryPolicy(max_attempts=3, max_time=1.0)
    assert policy.allows(2, 0.5, 0.5) and not policy.allows(3, 0, 0)
    assert not policy.allows(1, 0.8, 0.3)
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)


def test_retry_after_parses_seconds_and_dates() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(format_datetime(now + timedelta(seconds=30)), now=now) == 30.0
    assert parse_retry_after(format_datetime(now - timedelta(seconds=30)), now=now) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


async def test_added_latency_slows_answers_and_meets_the_client_timeout(
    fake: FakePBX, base_url: str
) -> None:
    # The normal answers (a login, reads: milliseconds) must come within the client's timeout
    # on a loaded machine too, and the slowed ones must miss it by far: 0.5 s against 1.5 s.
    async with PBXClient(
        base_url,
        username="admin",
        password="fakepbx",
        timeout=0.5,
        retry=RetryPolicy(max_attempts=2, base=0.001),
    ) as pbx:
        ivr_id = fake.add_ivr("8000", "Main")
        await pbx.ivrs.status(ivr_id)
        fake.faults.latency = 1.5
        with pytest.raises(PBXConnectionError) as info:
            await pbx.ivrs.get(ivr_id)
        fake.faults.latency = 0.0
        assert (await pbx.ivrs.get(ivr_id)).name == "Main"
    # A read timeout: the request went out, so the PBX may have acted on it.
    assert info.value.reached is True
    assert "ReadTimeout" in str(info.value)


async def test_domain_is_sent_for_tenant_users(fake: FakePBX, base_url: str) -> None:
    seen: list[bytes] = []

    class Recording(httpx.AsyncBaseTransport):
        def __init__(self) -> None:
            self.inner = httpx.AsyncHTTPTransport()

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            if request.url.path.endswith("/auth/sign_in"):
                seen.append(request.content)
            return await self.inner.handle_async_request(request)

        async def aclose(self) -> None:
            await self.inner.aclose()

    async with PBXClient(
        base_url,
        username="admin",
        password="fakepbx",
        domain="tenant.example",
        transport=Recording(),
    ) as pbx:
        [s async for s in pbx.ivrs.list()]
    assert b'"domain":"tenant.example"' in seen[0].replace(b" ", b"")
