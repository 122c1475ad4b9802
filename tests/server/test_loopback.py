"""The loopback server helper every HTTP test builds on."""

from __future__ import annotations

import socket

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


async def test_connections_to_a_bound_socket_send_without_delay() -> None:
    """uvloop leaves TCP_NODELAY unset on a socket handed to it; a kept-alive connection then
    waited out the client's delayed ACK (~40 ms a request under `ivrhooks run`)."""
    import socket

    sock = bind_socket()
    try:
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
    finally:
        sock.close()


async def test_serve_leaves_the_process_logging_alone() -> None:
    import logging

    uvicorn = logging.getLogger("uvicorn")
    saved = (uvicorn.propagate, list(uvicorn.handlers))
    uvicorn.propagate, uvicorn.handlers[:] = True, []
    try:
        async with serve(Starlette(routes=[Route("/x", _hello)])):
            # uvicorn's own config would give it a text handler and stop propagation.
            assert uvicorn.propagate and uvicorn.handlers == []
    finally:
        uvicorn.propagate, uvicorn.handlers[:] = saved
