"""The registrar's decisions against a real redis-server: one lease holder, generations by
first sight, explicit numbers for a rollback, a store that fails pauses, a fresh Redis is a
fresh start. (The replicas' end-to-end behaviour: tests/registration/test_replicas.py and
tests/cli/test_replicas.py.)"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping

import pytest

from ivrhooks import IVRHooks, call
from ivrhooks.core.request import ActionRequest
from ivrhooks.errors import StoreError
from ivrhooks.registration.desired import DesiredUrl, desired_state
from ivrhooks.registration.registrar import Registrar
from ivrhooks.store import MemoryStore, Store
from ivrhooks.store.redis import RedisStore
from tests.redis_server import RedisServer

State = Mapping[str, Mapping[str, DesiredUrl]]


def state(routes: str) -> State:
    """The desired state of an app version that routes the digits in ``routes``."""
    app = IVRHooks(
        receptionists=["8000"],
        secret="registrar-test-secret-0123456789",
        env={
            "IVRHOOKS_PUBLIC_URL": "http://127.0.0.1:9",
            "IVRHOOKS_PBX_URL": "http://127.0.0.1:9/api",
            "IVRHOOKS_PBX_USERNAME": "admin",
            "IVRHOOKS_PBX_PASSWORD": "secret",
            "IVRHOOKS_APP_ID": "test",
        },
    )
    for digit in routes:

        async def handler(req: ActionRequest, digit: str = digit) -> object:
            return call("20" + digit)

        app.dtmf(digit, name=f"key{digit}")(handler)
    return desired_state(app.manifest())


@pytest.fixture
async def redis(redis_server: RedisServer) -> AsyncIterator[RedisStore]:
    store = RedisStore(redis_server.url)
    yield store
    await store.close()


def replica(store: Store, routes: str, *, generation: int | None = None) -> Registrar:
    return Registrar(store, "test", state(routes), lease_ttl=5, generation=generation)


async def test_one_holder_at_a_time_and_a_release_hands_over_at_once(redis: RedisStore) -> None:
    a, b, c = (replica(redis, "12") for _ in range(3))
    assert [await r.role() for r in (a, b, c)] == ["registrar", "follower", "follower"]
    assert [await r.role() for r in (a, b, c)] == ["registrar", "follower", "follower"]
    await a.release()
    assert [await r.role() for r in (b, c)] == ["registrar", "follower"]
    assert await a.role() == "follower", "the lease is b's now"


async def test_the_newest_desired_state_wins_and_a_superseded_one_never_comes_back(
    redis: RedisStore,
) -> None:
    old = replica(redis, "12")
    assert await old.role() == "registrar" and old.number == 1
    new = replica(redis, "13")
    assert await new.role() == "follower" and new.number == 2, "the old one holds the lease..."
    assert await old.role() == "superseded" and not old.holding, "...until its next pass"
    assert await new.role() == "registrar"
    restarted = replica(redis, "12")  # an old replica restarting mid-deploy
    assert await restarted.role() == "superseded" and restarted.number == 1


async def test_synced_tells_every_replica_of_that_state_and_no_other(redis: RedisStore) -> None:
    registrar, follower, other = replica(redis, "12"), replica(redis, "12"), replica(redis, "1")
    await registrar.role()
    assert not await follower.in_place()
    await registrar.publish_synced()
    assert await follower.in_place() and not await other.in_place()


async def test_an_explicit_generation_rolls_back_and_a_later_version_still_comes_after_it(
    redis: RedisStore,
) -> None:
    first, current = replica(redis, "12"), replica(redis, "13")
    assert [await first.role(), await current.role()] == ["registrar", "follower"]
    assert [await first.role(), await current.role()] == ["superseded", "registrar"]
    assert current.number == 2
    rollback = replica(redis, "12", generation=10)  # the old code, numbered above the current
    assert await rollback.role() == "follower"
    assert [await current.role(), await rollback.role()] == ["superseded", "registrar"]
    fixed = replica(redis, "14")  # the next release, numbered by first sight: after the rollback
    assert await fixed.role() == "follower" and fixed.number == 11
    assert [await rollback.role(), await fixed.role()] == ["superseded", "registrar"]


async def test_a_failing_store_pauses_registration(redis_server: RedisServer) -> None:
    # Long timeouts (they were 0.2 s): a stopped Redis refuses at once, and the first role()
    # must not fail because this machine was slow for a fifth of a second.
    store = RedisStore(redis_server.url, connect_timeout=2, timeout=2)
    try:
        holder = replica(store, "12")
        assert await holder.role() == "registrar"
        redis_server.stop()
        with pytest.raises(StoreError):
            await holder.role()
        assert not holder.holding, "a replica that cannot reach the store is not the registrar"
    finally:
        redis_server.start()
        await store.close()


async def test_a_redis_restarted_empty_is_a_fresh_start(redis_server: RedisServer) -> None:
    store = RedisStore(redis_server.url)
    try:
        old, new = replica(store, "12"), replica(store, "13")
        await old.role()
        await new.role()
        assert await old.role() == "superseded"
        redis_server.stop()
        redis_server.start()  # no persistence: everything forgotten
        # The first command finds its pooled connection closed (no retries, by design): the
        # registration pauses for that pass, and the next one reconnects.
        with pytest.raises(StoreError):
            await new.role()
        # Only the new version runs now: it takes a new lease as generation 1.
        assert await new.role() == "registrar" and new.number == 1
    finally:
        await store.close()


async def test_with_this_processs_memory_the_one_process_always_registers() -> None:
    only = replica(MemoryStore(), "12")
    assert await only.role() == "registrar" and await only.in_place()
