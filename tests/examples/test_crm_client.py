"""The CRM client against the real CRM service on loopback: answers, failures, cache, flights."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from crm_client import CRMClient, CRMUnavailable
from crm_service import create_app
from starlette.applications import Starlette

from ivrhooks.testing import serve


class FakeClock:
    """Cache expiry without sleeping: tests move time forward by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class CRM:
    app: Starlette
    url: str

    @property
    def lookups(self) -> int:
        return int(self.app.state.lookups)


async def _crm(tmp_path: Path, delay: float = 0.0) -> AsyncIterator[CRM]:
    app = create_app(tmp_path / "crm.sqlite3", delay=delay)
    async with serve(app) as url:
        yield CRM(app, url)


@pytest.fixture
async def crm(tmp_path: Path) -> AsyncIterator[CRM]:
    async for service in _crm(tmp_path):
        yield service


@pytest.fixture
async def slow_crm(tmp_path: Path) -> AsyncIterator[CRM]:
    async for service in _crm(tmp_path, delay=0.4):
        yield service


@pytest.fixture
def dead_socket() -> Iterator[socket.socket]:
    """A loopback port that is bound but not listening: connecting is refused, and no other
    process can take the port while the test runs."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    try:
        yield sock
    finally:
        sock.close()


def _url(sock: socket.socket) -> str:
    host, port = sock.getsockname()
    return f"http://{host}:{port}"


async def test_a_known_caller_gets_the_manager(crm: CRM) -> None:
    async with CRMClient(crm.url) as client:
        assert await client.manager_for("5551234") == "2001"
        assert await client.manager_for("+4930123456") == "2003"  # + survives the URL


async def test_an_unknown_caller_gets_none(crm: CRM) -> None:
    async with CRMClient(crm.url) as client:
        assert await client.manager_for("5550000") is None


async def test_a_number_with_url_syntax_stays_one_path_segment(crm: CRM) -> None:
    async with CRMClient(crm.url) as client:
        assert await client.manager_for("../customers/5551234") is None
        assert await client.manager_for("5551234?x=1") is None


async def test_a_slow_crm_times_out_as_unavailable(slow_crm: CRM) -> None:
    async with CRMClient(slow_crm.url, timeout=0.1) as client:
        with pytest.raises(CRMUnavailable, match=r"did not answer within 0\.1 s"):
            await client.manager_for("5551234")


async def test_the_per_call_timeout_overrides_the_default(slow_crm: CRM) -> None:
    async with CRMClient(slow_crm.url, timeout=5.0) as client:
        with pytest.raises(CRMUnavailable, match=r"within 0\.05 s"):
            await client.manager_for("5551234", timeout=0.05)
        # Giving up did not cancel the shared lookup: a patient caller joins it.
        assert await client.manager_for("5551234") == "2001"
    assert slow_crm.lookups == 1


async def test_a_crm_that_is_down_is_unavailable(dead_socket: socket.socket) -> None:
    async with CRMClient(_url(dead_socket)) as client:
        with pytest.raises(CRMUnavailable, match=r"unreachable \(ConnectError\)") as info:
            await client.manager_for("5551234")
    assert "5551234" not in str(info.value)


async def test_failures_are_not_cached(dead_socket: socket.socket, tmp_path: Path) -> None:
    app = create_app(tmp_path / "crm.sqlite3")
    async with CRMClient(_url(dead_socket)) as client:
        with pytest.raises(CRMUnavailable):
            await client.manager_for("5551234")
        # The CRM comes up on the same port; the next lookup must reach it.
        async with serve(app, sock=dead_socket):
            assert await client.manager_for("5551234") == "2001"
    assert app.state.lookups == 1


async def test_a_5xx_is_unavailable() -> None:
    async def broken(scope: object, receive: object, send: object) -> None:
        await send({"type": "http.response.start", "status": 503, "headers": []})  # type: ignore[operator]
        await send({"type": "http.response.body", "body": b""})  # type: ignore[operator]

    async with serve(broken, lifespan="off") as url, CRMClient(url) as client:
        with pytest.raises(CRMUnavailable, match="answered HTTP 503"):
            await client.manager_for("5551234")


async def test_hits_and_misses_are_cached_misses_for_less_time(crm: CRM) -> None:
    clock = FakeClock()
    async with CRMClient(crm.url, ttl=300, miss_ttl=30, clock=clock) as client:
        assert await client.manager_for("5551234") == "2001"
        assert await client.manager_for("5550000") is None
        assert crm.lookups == 2
        assert await client.manager_for("5551234") == "2001"
        assert await client.manager_for("5550000") is None
        assert crm.lookups == 2  # both answered from the cache
        clock.now += 30
        assert await client.manager_for("5551234") == "2001"
        assert await client.manager_for("5550000") is None
        assert crm.lookups == 3  # the miss expired, the hit did not
        clock.now += 270
        assert await client.manager_for("5551234") == "2001"
        assert crm.lookups == 4


async def test_the_cache_is_bounded_and_evicts_the_least_recent(crm: CRM) -> None:
    async with CRMClient(crm.url, max_entries=2) as client:
        await client.manager_for("5551234")
        await client.manager_for("5559876")
        await client.manager_for("5551234")  # now the most recent
        await client.manager_for("5550000")  # evicts 5559876
        assert crm.lookups == 3
        assert await client.manager_for("5551234") == "2001"
        assert crm.lookups == 3
        assert await client.manager_for("5559876") == "2002"
        assert crm.lookups == 4


async def test_concurrent_lookups_of_one_number_share_one_request(slow_crm: CRM) -> None:
    async with CRMClient(slow_crm.url, timeout=5.0) as client:
        answers = await asyncio.gather(*(client.manager_for("5551234") for _ in range(20)))
    assert answers == ["2001"] * 20
    assert slow_crm.lookups == 1


async def test_concurrent_failures_reach_every_waiter_once(dead_socket: socket.socket) -> None:
    async with CRMClient(_url(dead_socket)) as client:
        results = await asyncio.gather(
            *(client.manager_for("5551234") for _ in range(5)), return_exceptions=True
        )
    assert all(isinstance(r, CRMUnavailable) for r in results)


async def test_a_cancelled_waiter_does_not_cancel_the_lookup_for_others(slow_crm: CRM) -> None:
    async with CRMClient(slow_crm.url, timeout=5.0) as client:
        first = asyncio.ensure_future(client.manager_for("5551234"))
        second = asyncio.ensure_future(client.manager_for("5551234"))
        await asyncio.sleep(0)  # one turn of the loop: both are now waiting on the flight
        first.cancel()
        assert await second == "2001"
        with pytest.raises(asyncio.CancelledError):
            await first
    assert slow_crm.lookups == 1


async def test_closing_the_client_fails_waiters_cleanly(slow_crm: CRM) -> None:
    client = CRMClient(slow_crm.url, timeout=5.0)
    await client.start()
    waiter = asyncio.ensure_future(client.manager_for("5551234"))
    await asyncio.sleep(0)  # let the waiter start the lookup
    await client.aclose()
    with pytest.raises(CRMUnavailable, match="client was closed"):
        await waiter


async def test_lookups_before_start_are_refused() -> None:
    client = CRMClient("http://127.0.0.1:9")
    with pytest.raises(RuntimeError, match="not started"):
        await client.manager_for("5551234")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"timeout": 0}, "timeout must be > 0"),
        ({"ttl": -1}, "ttl must be > 0"),
        ({"miss_ttl": 0}, "miss_ttl must be > 0"),
        ({"max_entries": 0}, "max_entries must be >= 1"),
    ],
    ids=["timeout", "ttl", "miss-ttl", "max-entries"],
)
def test_bad_settings_name_the_field(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        CRMClient("http://127.0.0.1:9", **kwargs)  # type: ignore[arg-type]


async def test_bad_arguments_name_the_field(crm: CRM) -> None:
    async with CRMClient(crm.url) as client:
        with pytest.raises(ValueError, match="phone must be a non-empty string"):
            await client.manager_for("")
        with pytest.raises(ValueError, match="timeout must be > 0"):
            await client.manager_for("5551234", timeout=0)
    assert crm.lookups == 0
