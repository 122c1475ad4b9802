"""The loopback server helper every HTTP test builds on."""

from __future__ import annotations

import socket
import time

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from ivrhooks.testing import bind_socket, serve


async def _hello(request: Request) -> PlainTextResponse:
    return PlainTextResponse(f"hello {request.url.path}")


async def test_serve_answers_on_loopback_and_stops() -> None:
    app = Starlette(routes=[Route("/x", _hello)])
    async with serve(app) as url:
        assert url.startswith("http://127.0.0.1:")
        async with httpx.AsyncClient() as client:
            r = await client.get(url + "/x")
        assert r.text == "hello /x"
    with pytest.raises(httpx.ConnectError):
        async with httpx.AsyncClient() as client:
            await client.get(url + "/x")


async def test_bind_socket_refuses_a_port_in_use() -> None:
    first = bind_socket()
    try:
        port = first.getsockname()[1]
        # SO_REUSEADDR does not allow two listeners on one port on Linux.
        with pytest.raises(OSError):
            bind_socket(port=port)
    finally:
        first.close()


@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
def test_connections_are_accepted_with_nagle_off(host: str) -> None:
    # asyncio sets TCP_NODELAY on an accepted connection only when the listening socket's
    # proto is IPPROTO_TCP (asyncio.base_events._set_nodelay); 0 costs ~40 ms a request.
    try:
        sock = bind_socket(host)
    except OSError:
        pytest.skip(f"no {host} on this machine")
    with sock:
        assert sock.proto == socket.IPPROTO_TCP


async def test_a_hundred_requests_do_not_wait_for_delayed_acks() -> None:
    app = Starlette(routes=[Route("/x", _hello)])
    async with serve(app) as url, httpx.AsyncClient(base_url=url) as client:
        started = time.perf_counter()
        for _ in range(100):
            assert (await client.get("/x")).status_code == 200
        elapsed = time.perf_counter() - started
    # ~40 ms each with Nagle on (4 s in all); a few ms each without, even on a busy machine.
    assert elapsed < 2.0
