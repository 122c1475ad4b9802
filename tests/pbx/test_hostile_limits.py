"""What a hostile PBX's answers may cost the client: bytes, time and list items are capped.

Each test serves a :class:`HostilePBX` on loopback and talks to it with the client as
``ivrhooks doctor`` and the registration service build it (``pbx_client`` from the PBX
settings). Figures are printed (``-s``), mechanisms asserted.
"""

from __future__ import annotations

import gzip
import time
import tracemalloc
from collections.abc import AsyncIterator
from typing import Any

import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ivrhooks import PBXConfig
from ivrhooks.errors import PBXConnectionError, PBXResponseError
from ivrhooks.pbx import PBXClient, RetryPolicy
from ivrhooks.registration.job import pbx_client
from ivrhooks.testing import serve
from tests.pbx.hostile import HostilePBX, MiB


@pytest.fixture
def hostile() -> HostilePBX:
    return HostilePBX()


@pytest.fixture
async def base(hostile: HostilePBX) -> AsyncIterator[str]:
    async with serve(hostile.app) as url:
        yield url + "/api"


def client(base: str, hostile: HostilePBX, **options: Any) -> PBXClient:
    config = PBXConfig(base, username=hostile.username, password=hostile.password)
    return pbx_client(config, **{"retry": RetryPolicy(max_attempts=2), **options})


async def test_a_48_mib_login_answer_stops_at_the_token_cap(hostile: HostilePBX, base: str) -> None:
    hostile.on("POST", "auth/sign_in", hostile.huge(48 * MiB))
    tracemalloc.start()
    try:
        async with client(base, hostile) as pbx:
            with pytest.raises(PBXResponseError) as info:
                await pbx.tokens.token()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    print(f"\nserver handed out {hostile.streamed / MiB:.1f} MiB; client peak {peak / MiB:.1f} MiB")
    assert "POST auth/sign_in: the PBX's answer is larger than the 16 KiB" in str(info.value)
    assert "PBXClient(max_token_body=...)" in str(info.value)
    assert pbx.tokens._access is None  # nothing of it became a Bearer header
    assert hostile.streamed < 48 * MiB  # the client stopped reading: the rest was never sent


async def test_a_declared_oversize_answer_is_refused_before_its_body(
    hostile: HostilePBX, base: str
) -> None:
    big = {"count": 1, "items": [{"id": "x" * (5 * MiB), "extension_number": "8000"}]}
    hostile.on("GET", "ivrs", lambda request: _json(big))
    async with client(base, hostile) as pbx:
        with pytest.raises(PBXResponseError, match=r"larger than the 4 MiB .*max_body=\.\.\."):
            await anext(pbx.ivrs.list())


async def test_a_compressed_answer_is_refused(hostile: HostilePBX, base: str) -> None:
    # 64 KiB of gzip unpack to 64 MiB: the byte cap counts what arrives, so refuse compression.
    bomb = gzip.compress(b"{" + b" " * (8 * MiB) + b"}")

    async def handler(request: Request) -> Response:
        assert request.headers["accept-encoding"] == "identity"
        headers = {"Content-Encoding": "gzip"}
        return Response(bomb, media_type="application/json", headers=headers)

    hostile.on("GET", "ivrs", handler)
    async with client(base, hostile) as pbx:
        with pytest.raises(PBXResponseError, match="Content-Encoding 'gzip'"):
            await anext(pbx.ivrs.list())
    print(f"\n{len(bomb)} bytes of gzip, {8 * MiB} unpacked: refused")


async def test_a_dripping_answer_ends_at_the_deadline_not_per_read(
    hostile: HostilePBX, base: str
) -> None:
    hostile.on("POST", "auth/sign_in", hostile.drip(every=0.05))
    started = time.monotonic()
    # A 10 s per-read timeout never fires on a byte every 50 ms: only the deadline can end it.
    async with client(base, hostile, timeout=10.0, deadline=0.5) as pbx:
        with pytest.raises(PBXConnectionError) as info:
            await pbx.tokens.token()
    print(f"\ncut after {time.monotonic() - started:.2f}s, {hostile.streamed} bytes dripped")
    assert "POST auth/sign_in: no complete answer within the 0.5 s deadline" in str(info.value)
    assert "PBXClient(deadline=...)" in str(info.value)
    assert hostile.count("POST auth/sign_in") == 1  # not retried: it would only drip again


async def test_a_list_claiming_a_billion_items_stops_at_the_cap(
    hostile: HostilePBX, base: str
) -> None:
    async def endless(request: Request) -> Response:
        skip = int(request.query_params["skip"])
        items = [{"id": f"ivr-{skip + n}", "extension_number": "9"} for n in range(100)]
        return JSONResponse({"count": 10**9, "items": items})

    hostile.on("GET", "ivrs", endless)
    seen = 0
    async with client(base, hostile, rate=None, max_list_items=1000) as pbx:
        with pytest.raises(PBXResponseError) as info:
            async for _ in pbx.ivrs.list():
                seen += 1
    print(f"\n{hostile.count('GET ivrs')} pages, {seen} items, then: {info.value}")
    assert "GET ivrs: the list goes past 1000 items (the PBX says 1000000000)" in str(info.value)
    assert "PBXClient(max_list_items=...)" in str(info.value)
    assert seen == 1000 and hostile.count("GET ivrs") == 11


async def test_a_list_that_ignores_skip_stops_at_the_first_repeat(
    hostile: HostilePBX, base: str
) -> None:
    page = [{"id": f"ivr-{n}", "extension_number": str(8000 + n)} for n in range(100)]
    hostile.on("GET", "ivrs", lambda request: _json({"items": page}))  # no count, always full
    async with client(base, hostile) as pbx:
        with pytest.raises(PBXResponseError) as info:
            async for _ in pbx.ivrs.list():
                pass
    assert "GET ivrs: the page at skip=100 brings no item not listed before" in str(info.value)
    assert hostile.count("GET ivrs") == 2


async def _json(body: Any) -> Response:
    return JSONResponse(body)
