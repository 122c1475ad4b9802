"""OneSendProtocol: a small response leaves in one write; nothing else changes on the wire."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from ivrhooks.server.protocol import OneSendProtocol, _HeldTransport
from ivrhooks.testing import serve


class Recorder:
    """A transport that records what is written to it."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(bytes(data))

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed


HEAD = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n"


@pytest.mark.parametrize(
    ("writes", "expected"),
    [
        ([HEAD, b"{}"], [HEAD + b"{}"]),
        ([b"HTTP/1.1 100 Continue\r\n\r\n"], [b"HTTP/1.1 100 Continue\r\n\r\n"]),
        ([b"HTTP/1.1 400 Bad Request\r\n\r\nbad"], [b"HTTP/1.1 400 Bad Request\r\n\r\nbad"]),
        ([b"chunk", b"chunk"], [b"chunk", b"chunk"]),
        ([HEAD, b"", HEAD, b"{}"], [HEAD, HEAD + b"{}"]),
    ],
    ids=["head-and-body", "interim-100", "whole-response", "body-chunks", "empty-body-head"],
)
async def test_writes_reach_the_transport(writes: list[bytes], expected: list[bytes]) -> None:
    recorder = Recorder()
    held = _HeldTransport(recorder, asyncio.get_running_loop())  # type: ignore[arg-type]
    for data in writes:
        held.write(data)
    assert recorder.writes == expected


async def test_a_held_header_block_leaves_on_the_next_turn_of_the_loop() -> None:
    recorder = Recorder()
    held = _HeldTransport(recorder, asyncio.get_running_loop())  # type: ignore[arg-type]
    held.write(HEAD)
    assert recorder.writes == []
    await asyncio.sleep(0)
    assert recorder.writes == [HEAD]


async def test_close_sends_what_is_held_first() -> None:
    recorder = Recorder()
    held = _HeldTransport(recorder, asyncio.get_running_loop())  # type: ignore[arg-type]
    held.write(HEAD)
    held.close()
    assert recorder.writes == [HEAD] and recorder.closed


async def _json(request: Request) -> Response:
    return JSONResponse({"action": "call"})


async def _slow_stream(request: Request) -> Response:
    async def body() -> AsyncIterator[bytes]:
        await asyncio.sleep(0.05)  # the body comes turns of the loop after the header block
        yield b"late"

    return StreamingResponse(body(), media_type="text/plain")


async def _echo(request: Request) -> Response:
    return Response(await request.body())


APP = Starlette(
    routes=[
        Route("/json", _json, methods=["GET", "POST", "HEAD"]),
        Route("/stream", _slow_stream),
        Route("/echo", _echo, methods=["POST"]),
    ]
)


@pytest.fixture
async def base_url() -> AsyncIterator[str]:
    async with serve(APP, http=OneSendProtocol) as url:
        yield url


@pytest.mark.parametrize(
    ("method", "path", "status", "body"),
    [
        ("GET", "/json", 200, b'{"action":"call"}'),
        ("HEAD", "/json", 200, b""),
        ("GET", "/stream", 200, b"late"),
        ("GET", "/missing", 404, b"Not Found"),
    ],
    ids=["json", "head", "late-stream", "not-found"],
)
async def test_responses_over_http(
    base_url: str, method: str, path: str, status: int, body: bytes
) -> None:
    async with httpx.AsyncClient(base_url=base_url) as client:
        for _ in range(3):  # and again on the kept-alive connection
            reply = await client.request(method, path)
            assert (reply.status_code, reply.content) == (status, body)


async def test_expect_100_continue_is_answered_before_the_body(base_url: str) -> None:
    host, port = base_url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(
        b"POST /echo HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\nexpect: 100-continue\r\n\r\n"
    )
    await writer.drain()
    interim = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    assert interim.startswith(b"HTTP/1.1 100 ")
    writer.write(b"hello")
    await writer.drain()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    assert head.startswith(b"HTTP/1.1 200 ")
    assert await asyncio.wait_for(reader.readexactly(5), 10) == b"hello"
    writer.close()
    await writer.wait_closed()
