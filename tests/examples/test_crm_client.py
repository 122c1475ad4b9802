"""The CRM client against the real CRM service on loopback: answers and failures (caching and
single flight are app.cache's: tests/cache)."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from crm_client import CRMClient, CRMUnavailable
from crm_service import create_app
from starlette.applications import Starlette

from ivrhooks.testing import serve


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


async def test_an_outcome_is_noted_and_read_back(crm: CRM) -> None:
    async with CRMClient(crm.url) as client:
        assert await client.outcome_of("885/1") is None
        await client.note_outcome("885", {"sent_to": "2001"})
        await client.note_outcome("885", {"sent_to": "2001"})
        assert await client.outcome_of("885") == {"sent_to": "2001"}
        with pytest.raises(CRMUnavailable, match="HTTP 400"):
            await client.note_outcome("8" * 65, {})


async def test_a_slow_crm_times_out_as_unavailable(slow_crm: CRM) -> None:
    async with CRMClient(slow_crm.url, timeout=0.1) as client:
        with pytest.raises(CRMUnavailable, match="did not answer in time") as info:
            await client.manager_for("5551234")
    assert "5551234" not in str(info.value)


async def test_a_crm_that_is_down_is_unavailable(dead_socket: socket.socket) -> None:
    async with CRMClient(_url(dead_socket)) as client:
        with pytest.raises(CRMUnavailable, match=r"unreachable \(ConnectError\)") as info:
            await client.manager_for("5551234")
    assert "5551234" not in str(info.value)


async def test_a_5xx_is_unavailable() -> None:
    async def broken(scope: object, receive: object, send: object) -> None:
        await send({"type": "http.response.start", "status": 503, "headers": []})  # type: ignore[operator]
        await send({"type": "http.response.body", "body": b""})  # type: ignore[operator]

    async with serve(broken, lifespan="off") as url, CRMClient(url) as client:
        with pytest.raises(CRMUnavailable, match="answered HTTP 503"):
            await client.manager_for("5551234")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"timeout": 0}, "timeout must be > 0"), ({"timeout": -1}, "timeout must be > 0")],
    ids=["zero", "negative"],
)
def test_bad_settings_name_the_field(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        CRMClient("http://127.0.0.1:9", **kwargs)


async def test_bad_arguments_name_the_field(crm: CRM) -> None:
    async with CRMClient(crm.url) as client:
        with pytest.raises(ValueError, match="phone must be a non-empty string"):
            await client.manager_for("")
    assert crm.lookups == 0
