"""The shared tier on a real redis-server: what one replica loads another serves; staleness is
judged from when it was loaded; keys, values and lifetimes in Redis; a Redis that is down or
silent degrades the cache to its process tier, within the store's timeout."""

from __future__ import annotations

import asyncio
import hashlib
import json
import pickle
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as aioredis

from ivrhooks.cache import Cache
from ivrhooks.store import Store, open_store
from tests.cache.helpers import Clock, Events, Source
from tests.redis_server import RedisServer

PREFIX = "ivrhooks:app1:cache:"


@pytest.fixture
async def raw(redis_server: RedisServer) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(redis_server.url)
    try:
        yield client
    finally:
        await client.aclose()


async def _stored(raw: aioredis.Redis, key: str) -> Any:
    """What the shared tier holds at ``key``, decoded."""
    value = await raw.get(key)
    assert isinstance(value, bytes), value
    return json.loads(value)


class Replica:
    """One process's cache, bound to its own connection to the shared Redis (as the app binds
    it: ivrhooks.compose)."""

    def __init__(self, url: str, clock: Clock, **options: float) -> None:
        self.fallbacks: list[str] = []
        self.store = open_store(url, on_fallback=self.fallbacks.append)
        self.events = Events()
        self.cache = Cache("managers", clock=clock, **options)  # type: ignore[arg-type]
        self.cache.bind(self.store, prefix=PREFIX, report=self.events, timeout=0.25)

    async def close(self) -> None:
        await self.cache.unbind()
        await self.store.close()


@pytest.fixture
async def replicas(redis_server: RedisServer) -> AsyncIterator[tuple[Replica, Replica, Clock]]:
    clock = Clock(time.time())
    a, b = Replica(redis_server.url, clock), Replica(redis_server.url, clock)
    try:
        yield a, b, clock
    finally:
        await a.close()
        await b.close()


async def test_what_one_replica_loads_another_serves_without_loading(
    replicas: tuple[Replica, Replica, Clock], raw: aioredis.Redis
) -> None:
    a, b, clock = replicas
    loaded_at = clock.now
    assert await a.cache.get("sales", Source({"team": ["2001"]})) == {"team": ["2001"]}
    stored = await _stored(raw, PREFIX + "managers:sales")
    assert stored == {"t": loaded_at, "v": {"team": ["2001"]}}
    # The key lives as long as the value may be served: ttl + stale (300 + 3600 s).
    assert 3_895_000 < await raw.pttl(PREFIX + "managers:sales") <= 3_900_000
    other = Source({"team": ["9999"]})
    assert await b.cache.get("sales", other) == {"team": ["2001"]}
    assert other.calls == 0
    assert b.events.of("managers") == {"hit": 1}
    assert await b.cache.get("sales", other) == {"team": ["2001"]}, "now from B's own tier"


async def test_staleness_is_judged_from_when_the_value_was_loaded_on_any_replica(
    redis_server: RedisServer, raw: aioredis.Redis
) -> None:
    loaded = Clock(time.time() - 400)  # replica A loaded it 400 s ago
    a, b = Replica(redis_server.url, loaded), Replica(redis_server.url, Clock(time.time()))
    try:
        await a.cache.get("sales", Source(["2001"]))
        refresh = Source(["2002"])
        assert await b.cache.get("sales", refresh) == ["2001"], "stale: served at once"
        await b.events.wait_for("managers", "background")
        assert b.events.of("managers") == {"stale": 1, "background": 1}
        assert refresh.calls == 1
        assert await b.cache.get("sales", refresh) == ["2002"]
        stored = await _stored(raw, PREFIX + "managers:sales")
        assert stored["v"] == ["2002"] and stored["t"] > loaded.now + 300
    finally:
        await a.close()
        await b.close()


async def test_a_miss_is_shared_for_miss_ttl(
    replicas: tuple[Replica, Replica, Clock], raw: aioredis.Redis
) -> None:
    a, b, _ = replicas
    assert await a.cache.get("4321", Source(None)) is None
    assert 29_000 < await raw.pttl(PREFIX + "managers:4321") <= 30_000
    other = Source({"name": "Ada"})
    assert await b.cache.get("4321", other) is None
    assert other.calls == 0


async def test_a_long_key_is_stored_under_its_hash(
    replicas: tuple[Replica, Replica, Clock], raw: aioredis.Redis
) -> None:
    a, b, _ = replicas
    key = "crm:" + "x" * 200
    await a.cache.get(key, Source("long"))
    hashed = PREFIX + "managers:#" + hashlib.sha256(key.encode()).hexdigest()
    assert await raw.keys(PREFIX + "*") == [hashed.encode()]
    other = Source("other")
    assert await b.cache.get(key, other) == "long"
    assert other.calls == 0


async def test_invalidate_removes_the_shared_value(
    replicas: tuple[Replica, Replica, Clock], raw: aioredis.Redis
) -> None:
    a, b, _ = replicas
    await a.cache.get("sales", Source(["2001"]))
    a.cache.invalidate("sales")
    fresh = Source(["2003"])
    # A's next load waits for the delete, so it cannot read the old value back.
    assert await a.cache.get("sales", fresh) == ["2003"]
    assert fresh.calls == 1
    assert await b.cache.get("sales", Source(["old"])) == ["2003"]


async def test_a_value_in_redis_that_is_not_a_cache_entry_is_ignored(
    replicas: tuple[Replica, Replica, Clock], raw: aioredis.Redis
) -> None:
    a, _, _ = replicas
    await raw.set(PREFIX + "managers:sales", pickle.dumps({"v": ["evil"]}))
    source = Source(["2001"])
    assert await a.cache.get("sales", source) == ["2001"]
    assert source.calls == 1
    assert (await _stored(raw, PREFIX + "managers:sales"))["v"] == ["2001"]


async def test_a_redis_that_is_down_degrades_the_cache_to_its_process_tier(
    redis_server: RedisServer,
) -> None:
    redis_server.stop()
    replica = Replica(redis_server.url, Clock(time.time()))
    source = Source(["2001"])
    try:
        started = time.perf_counter()
        async with asyncio.timeout(1.0):  # a handler's budget
            assert await replica.cache.get("sales", source) == ["2001"]
        first = time.perf_counter() - started
        assert await replica.cache.get("sales", source) == ["2001"]
    finally:
        await replica.close()
    print(f"Redis down: a miss answered in {first * 1000:.1f} ms")
    assert source.calls == 1, "the second get is a hit in the process tier"
    assert replica.events.of("managers") == {"miss": 1, "hit": 1}, "no load failed"


async def test_a_redis_that_never_answers_costs_a_caller_one_timeout_at_most() -> None:
    # A Redis that accepts connections and never replies (a hung server, a black-holed link).
    writers: list[asyncio.StreamWriter] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        await reader.read()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    replica = Replica(f"redis://127.0.0.1:{port}/0", Clock(time.time()))
    source = Source(["2001"])
    try:
        started = time.perf_counter()
        async with asyncio.timeout(1.0):  # a handler's budget
            assert await replica.cache.get("sales", source) == ["2001"]
        waited = time.perf_counter() - started
    finally:
        await replica.close()
        for writer in writers:
            writer.close()
        server.close()
        await server.wait_closed()
    print(f"silent Redis: a miss answered in {waited * 1000:.1f} ms (store timeout 250 ms)")
    assert source.calls == 1
    assert writers, "the cache did ask the silent Redis"
    # The store's own timeout ended the read (the cache's bound is a backstop just past it):
    # the store counted it and answered from memory, as for any operation.
    assert replica.fallbacks[:1] == ["get"]


class Recording:
    """A store that records which operations were asked of it, as they are asked."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.kind = store.kind
        self.asked: list[str] = []

    def __getattr__(self, name: str) -> Any:
        operation = getattr(self.store, name)

        def record(*args: Any, **kwargs: Any) -> Any:
            self.asked.append(name)
            return operation(*args, **kwargs)

        return record


async def test_with_miss_ttl_zero_a_miss_is_neither_kept_nor_written(
    redis_server: RedisServer,
) -> None:
    store = Recording(open_store(redis_server.url))
    cache = Cache("managers", miss_ttl=0)
    cache.bind(store, prefix=PREFIX)
    try:
        assert await cache.get("4321", Source(None)) is None
        # A write would have been asked before the caller resumed (it follows the answer in
        # the load's task, with no wait between): only the read was.
        assert store.asked == ["get"]
        assert len(cache) == 0
        assert await cache.get("4321", Source({"name": "Ada"})) == {"name": "Ada"}
        assert store.asked == ["get", "get", "put"], "a value is written"
    finally:
        await cache.unbind()
        await store.store.close()
