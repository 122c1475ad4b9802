"""Leaving ``serve()`` closes idle connections at once and still answers a request in flight.

uvicorn's graceful shutdown sleeps 0.1 s whenever a connection is open, idle or not: every test
server whose client kept a connection alive (or had just hung up) paid it. ``serve()`` asks
each connection to close, waits a few ms, and takes uvicorn's graceful path only for a request
still being answered.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from ivrhooks.pbx.tls import tls_context
from ivrhooks.testing import serve


async def _hello(request: Request) -> PlainTextResponse:
    return PlainTextResponse("hello")


APP = Starlette(routes=[Route("/x", _hello)])


@pytest.fixture
def graceful(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Each time uvicorn's own graceful shutdown runs: the open connections it found."""
    found: list[int] = []
    original = uvicorn.Server.shutdown

    async def spied(self: uvicorn.Server, sockets: object = None) -> None:
        found.append(len(self.server_state.connections))
        await original(self, sockets)  # type: ignore[arg-type]

    monkeypatch.setattr(uvicorn.Server, "shutdown", spied)
    yield found


async def test_an_idle_kept_alive_connection_is_closed_without_the_graceful_wait(
    graceful: list[int],
) -> None:
    async with serve(APP) as url:
        host, port = url.removeprefix("http://").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(b"GET /x HTTP/1.1\r\nHost: t\r\n\r\n")  # HTTP/1.1: kept alive
        head = await reader.readuntil(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200 ") and b"connection: close" not in head.lower()
        assert await reader.readexactly(5) == b"hello"
    # The server closed the idle connection itself, and uvicorn's path never ran.
    assert await asyncio.wait_for(reader.read(), 5) == b""
    writer.close()
    assert graceful == []


async def test_a_request_in_flight_is_still_answered(graceful: list[int]) -> None:
    started = asyncio.Event()

    async def slow(request: Request) -> PlainTextResponse:
        started.set()
        await asyncio.sleep(0.3)  # still being answered after shutdown's few ms
        return PlainTextResponse("late but answered")

    app = Starlette(routes=[Route("/slow", slow)])
    async with httpx.AsyncClient(verify=tls_context()) as client:
        async with serve(app) as url:
            answer = asyncio.ensure_future(client.get(url + "/slow"))
            await asyncio.wait_for(started.wait(), 5)
        response = await answer
    assert response.status_code == 200 and response.text == "late but answered"
    assert graceful == [1], "uvicorn's graceful path waited for it"
