"""The store seam, the same table of behaviour for the memory store and a real redis-server."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest

from ivrhooks.store import FallbackStore, MemoryStore, Store, StoreError
from ivrhooks.store.redis import RedisStore
from tests.redis_server import RedisServer


@pytest.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[Store]:
    if request.param == "memory":
        made: Store = MemoryStore()
    else:
        server: RedisServer = request.getfixturevalue("redis_server")
        made = RedisStore(server.url)
    try:
        yield made
    finally:
        await made.close()


async def test_get_put_add(store: Store) -> None:
    assert await store.get("k") is None
    await store.put("k", b"v1", ttl=10)
    assert await store.get("k") == b"v1"
    assert await store.add("k", b"v2", ttl=10) is False
    assert await store.get("k") == b"v1"
    assert await store.add("fresh", b"x", ttl=10) is True


async def test_swap_is_compare_and_set(store: Store) -> None:
    assert await store.swap("lease", None, b"me", ttl=10) is True  # absent -> mine
    assert await store.swap("lease", None, b"you", ttl=10) is False
    assert await store.swap("lease", b"you", b"you", ttl=10) is False
    assert await store.swap("lease", b"me", b"me", ttl=10) is True  # renew
    assert await store.swap("lease", b"me", None, ttl=10) is True  # release
    assert await store.get("lease") is None
    assert await store.swap("lease", b"", b"x", ttl=10) is False, "empty is not absent"


async def test_counters(store: Store) -> None:
    assert [await store.incr("c", ttl=10) for _ in range(3)] == [1, 2, 3]
    assert await store.raise_to("m", 5, ttl=10) == 5
    assert await store.raise_to("m", 3, ttl=10) == 5
    assert await store.raise_to("m", 9, ttl=10) == 9


async def test_keys_expire(store: Store) -> None:
    await store.put("short", b"v", ttl=0.05)
    await store.incr("count", ttl=0.05)
    await asyncio.sleep(0.12)
    assert await store.get("short") is None
    assert await store.incr("count", ttl=10) == 1


@pytest.mark.parametrize(
    ("numbers", "expected"),
    [
        ([1, 2, 3], ["new", "new", "new"]),
        ([1, 1], ["new", "seen"]),
        ([5, 3, 4, 3], ["new", "new", "new", "seen"]),  # out of order within the window
        ([200, 200 - 127, 200 - 128], ["new", "new", "old"]),  # the window is 128 wide
        ([1, 300, 1], ["new", "new", "old"]),
        ([10, 9, 10, 9, 11], ["new", "new", "seen", "seen", "new"]),
    ],
    ids=["increasing", "replay", "out-of-order", "edge", "jump", "mixed"],
)
async def test_mark_is_a_sliding_window(
    store: Store, numbers: list[int], expected: list[str]
) -> None:
    got = [await store.mark("nonce", n, window=128, ttl=60) for n in numbers]
    assert got == expected


async def test_mark_after_a_jump_forgets_nothing_inside_the_window(store: Store) -> None:
    for n in range(1, 50):
        assert await store.mark("w", n, window=128, ttl=60) == "new"
    assert await store.mark("w", 60, window=128, ttl=60) == "new"
    assert [await store.mark("w", n, window=128, ttl=60) for n in (49, 55, 55)] == [
        "seen",
        "new",
        "seen",
    ]


async def test_concurrent_adds_have_one_winner(store: Store) -> None:
    results = await asyncio.gather(*(store.add("once", b"%d" % i, ttl=10) for i in range(20)))
    assert results.count(True) == 1


async def test_a_command_cancelled_at_the_deadline_leaves_the_next_answer_correct(
    redis_server: RedisServer,
) -> None:
    store = RedisStore(redis_server.url, max_connections=1)  # one connection: it is reused
    try:
        await store.put("a", b"1", ttl=60)
        await store.put("b", b"2", ttl=60)
        # Another client pauses Redis (for long enough that no stall of this process can see
        # the pause end before the read): our next read waits for its reply...
        with socket.create_connection(("127.0.0.1", redis_server.port), timeout=30) as admin:
            admin.sendall(b"CLIENT PAUSE 1000\r\n")
            assert admin.recv(16).startswith(b"+OK")
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(0.05):  # ...and the request's deadline cancels it
                    await store.get("a")
            # Paused too, the admin's PING is answered once Redis resumes: by then the reply
            # to GET a, queued before it, has been sent. Waited for, not slept.
            admin.sendall(b"PING\r\n")
            assert (await asyncio.to_thread(admin.recv, 16)).startswith(b"+PONG")
        assert await store.get("b") == b"2", "not the cancelled command's reply"
        assert await store.get("a") == b"1"
    finally:
        await store.close()


async def test_an_unreachable_redis_is_a_store_error_within_its_timeout() -> None:
    from ivrhooks.testing import free_port

    store = RedisStore(f"redis://127.0.0.1:{free_port()}/0", connect_timeout=0.1, timeout=0.1)
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(StoreError, match="redis GET"):
        await store.get("k")
    assert loop.time() - started < 1.0
    await store.close()


async def test_the_fallback_answers_from_memory_while_redis_is_down_and_logs_once(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    fallbacks: list[str] = []
    # Long timeouts: a stopped Redis refuses at once, and a running one must not be taken for
    # a failing one because this machine was slow for a tenth of a second (it was 0.1 s).
    redis = RedisStore(redis_server.url, connect_timeout=2, timeout=2)
    store = FallbackStore(redis, on_fallback=fallbacks.append)
    try:
        assert await store.mark("n", 1, window=128, ttl=60) == "new"
        redis_server.stop()
        assert await store.mark("n", 2, window=128, ttl=60) == "new"
        assert await store.mark("n", 2, window=128, ttl=60) == "seen", "per process meanwhile"
        assert store.degraded and fallbacks == ["mark", "mark"]
        redis_server.start()
        assert await store.mark("n", 3, window=128, ttl=60) == "new"
        assert not store.degraded
    finally:
        await store.close()
    failed = [r for r in caplog.records if "using this process's memory" in r.getMessage()]
    back = [r for r in caplog.records if "shared state resumes" in r.getMessage()]
    assert (len(failed), len(back)) == (1, 1), "logged once per episode"
