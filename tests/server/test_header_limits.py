"""Header limits and the read timeout of the server ``ivrhooks run`` starts, over raw sockets.

The app is built and served exactly as ``ivrhooks run`` serves it (``serve(app.build())`` picks
the protocol class from the app's ``ServingConfig``, as run does; tests/cli/test_run.py checks run
itself). A refused request never reaches the app, so it never reaches a credential check either;
the PBX's calls keep being answered throughout.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import time
from collections.abc import AsyncIterator

import httpx
import pytest

from ivrhooks import ServingConfig
from ivrhooks.pbx.tls import tls_context
from ivrhooks.server import Server
from ivrhooks.server.protocol import protocol_for
from ivrhooks.testing import serve

from .served import QUERY, USER, app_with

# Short, so the half-sent requests below are closed soon after it (within it and one tick of
# half of it); a complete request arrives in one write, far inside it even on a loaded machine.
READ_TIMEOUT = 0.5


@contextlib.asynccontextmanager
async def served() -> AsyncIterator[tuple[str, int, list[str]]]:
    app, seen = app_with("GET", ServingConfig(read_timeout=READ_TIMEOUT))
    async with serve(app.build()) as url:
        host, port = url.removeprefix("http://").split(":")
        yield host, int(port), seen


async def exchange(host: str, port: int, request: bytes) -> bytes:
    """Send ``request``, then read until the server closes; b"" when it reset instead."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(request)
        await writer.drain()
        return await asyncio.wait_for(reader.read(), 10)
    except (ConnectionResetError, BrokenPipeError):
        return b""
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


def request(*headers: bytes) -> bytes:
    auth = b"Authorization: Basic " + base64.b64encode(USER.encode())
    # Connection: close, so an answered request ends the exchange at once (not at keep-alive's
    # end); the 99-field case is then exactly the 100 fields allowed.
    first = b"GET /hooks/one?" + QUERY.encode() + b" HTTP/1.1"
    lines = [first, b"Host: ivr", b"Connection: close", auth, *headers]
    return b"\r\n".join(lines) + b"\r\n\r\n"


async def pbx_calls(url: str, n: int) -> list[int]:
    # verify=tls_context(): the process's one TLS context (ivrhooks.pbx.tls), not a CA bundle
    # loaded per client (a client every 50 ms below); plain HTTP on loopback anyway.
    async with httpx.AsyncClient(base_url=url, verify=tls_context()) as client:
        user, password = USER.split(":")
        return [
            (await client.get(f"/hooks/one?{QUERY}", auth=(user, password))).status_code
            for _ in range(n)
        ]


@pytest.mark.parametrize(
    ("headers", "refused"),
    [
        ([b"X-Pad: " + b"a" * 6000], False),
        ([b"X-Pad: " + b"a" * 9000], True),
        ([b"X-Pad: " + b"a" * (8 << 20)], True),  # the finding: 8 MiB was read and served
        ([b"X-%d: v" % i for i in range(97)], False),  # 100 with Host, Authorization, ...
        ([b"X-%d: v" % i for i in range(120)], True),
        ([b"X-%d: v" % i for i in range(10_000)], True),  # the finding: 10,000 headers
        ([b"X-Pad: " + b"a" * 3000, b"X-Pad2: " + b"b" * 3000, b"X-Pad3: " + b"c" * 3000], True),
    ],
    ids=["6k", "9k", "8MiB", "99-fields", "122-fields", "10000-fields", "three-3k"],
)
async def test_an_oversized_head_is_431_before_the_app(headers: list[bytes], refused: bool) -> None:
    async with served() as (host, port, called):
        answer = await exchange(host, port, request(*headers))
        after = await pbx_calls(f"http://{host}:{port}", 2)
    if refused:
        # 431 (RFC 6585 §5), or a reset when the client was still writing as the server closed.
        assert answer == b"" or answer.startswith(b"HTTP/1.1 431 "), answer[:80]
        assert b"request header fields too large" in answer or answer == b""
        assert called == ["GET", "GET"], "the refused request never reached the app"
    else:
        assert answer.startswith(b"HTTP/1.1 200 "), answer[:80]
        assert called == ["GET"] * 3
    assert after == [200, 200]


async def test_an_oversized_head_sent_in_full_gets_its_431() -> None:
    async with served() as (host, port, called):
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(request(b"X-Pad: " + b"a" * 9000))
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), 10)
        writer.close()
    assert answer.startswith(b"HTTP/1.1 431 Request Header Fields Too Large\r\n")
    assert answer.endswith(b'{"error": "request header fields too large"}')
    assert called == []


async def slowloris(host: str, port: int, drip: bytes) -> float:
    """Open a connection, send ``drip`` a byte at a time every 0.2 s; seconds until closed."""
    start = time.perf_counter()
    reader, writer = await asyncio.open_connection(host, port)
    try:
        for byte in drip:
            writer.write(bytes([byte]))
            await writer.drain()
            with contextlib.suppress(TimeoutError):
                if await asyncio.wait_for(reader.read(), 0.2) == b"":
                    break  # the server closed the connection
        else:  # all sent: wait for the close (or the test's own limit)
            await asyncio.wait_for(reader.read(), 10)
    except (ConnectionResetError, BrokenPipeError):
        pass
    finally:
        writer.close()
    return time.perf_counter() - start


@pytest.mark.parametrize(
    "drip",
    [
        b"GET /hooks/one HTTP/1.1\r\nHost: ivr\r\nX-Slow: " + b"a" * 200,  # a head, never done
        b"",  # connects and says nothing
        request(b"Content-Length: 100")[:-2] + b"\r\n" + b"x" * 50,  # a body that never ends
    ],
    ids=["head", "silent", "body"],
)
async def test_six_half_sent_requests_are_closed_while_calls_are_answered(drip: bytes) -> None:
    async with served() as (host, port, called):
        loris = [asyncio.ensure_future(slowloris(host, port, drip)) for _ in range(6)]
        statuses: list[int] = []
        while not all(task.done() for task in loris):
            statuses += await pbx_calls(f"http://{host}:{port}", 1)
            await asyncio.sleep(0.05)
        held = [task.result() for task in loris]
    print(f"\nhalf-sent requests held for {', '.join(f'{h:.2f}' for h in held)} s")
    # Closed at the read timeout (0.5 s). Never closed, each would be held 10 s or more (the
    # drip, then slowloris' own 10 s wait): a bound between the two, far from both.
    assert max(held) < READ_TIMEOUT + 5, held
    assert statuses and set(statuses) == {200}, "the PBX's calls were answered throughout"
    assert called == ["GET"] * len(statuses)


def test_the_limits_come_from_serving_config() -> None:
    app, _ = app_with(serving=ServingConfig(max_header_bytes=2048, max_headers=20))
    server = app.build()
    assert isinstance(server, Server)
    cls = protocol_for(server.runtime.config.serving)
    assert (cls.max_header_bytes, cls.max_headers, cls.read_timeout) == (2048, 20, 5.0)
