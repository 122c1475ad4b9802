"""A Digest response accepted once stays refused when Redis loses what it remembered or stops
answering (issue 23, finding 8): emptied (``FLUSHALL``, a restart without persistence), the
store's epoch changes and older nonces are stale; frozen, each replica's own window still holds
what it accepted. Replicas served on loopback, sharing a real redis-server."""

from __future__ import annotations

import os
import signal
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager

import httpx
import pytest

from ivrhooks import ActionRequest, IVRHooks, StoreConfig, call
from ivrhooks.core.auth import derive_credentials
from ivrhooks.testing import serve
from tests.auth.helpers import challenges, digest_fields, digest_header
from tests.redis_server import RedisServer

SECRET = "replay-store-loss-secret-0123456789"
CREDS = derive_credentials(SECRET, "sales")
TARGET = "/hooks/sales?from=101&to=8000&input=1"

Replica = Callable[[], AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def replica(redis_server: RedisServer) -> tuple[Replica, list[str]]:
    """Starts a replica of the app (a server of its own on loopback) sharing the
    redis-server; the handler's calls."""
    called: list[str] = []

    @asynccontextmanager
    async def start() -> AsyncIterator[httpx.AsyncClient]:
        app = IVRHooks(
            receptionists=["8000"],
            auth="digest",
            secret=SECRET,
            env={"IVRHOOKS_REGISTER": "false", "IVRHOOKS_METHOD": "GET"},
            store=StoreConfig(redis_url=redis_server.url),
        )

        @app.dtmf("1")
        async def sales(req: ActionRequest) -> object:
            called.append(req.caller)
            return call("2001")

        async with serve(app.build()) as url, httpx.AsyncClient(base_url=url) as client:
            yield client

    return start, called


async def spend(client: httpx.AsyncClient) -> dict[str, str]:
    """A correct Digest response to a fresh challenge, used once (200): its header."""
    challenge = await client.get(TARGET)
    assert challenge.status_code == 401
    ch = challenges(list(challenge.headers.raw))[0]
    fields = digest_fields(
        username=CREDS.username,
        password=CREDS.password,
        nonce=ch["nonce"],
        uri=TARGET,
        opaque=ch["opaque"],
    )
    header = {"authorization": digest_header(fields).decode()}
    assert (await client.get(TARGET, headers=header)).status_code == 200
    return header


def refused(reply: httpx.Response) -> bool:
    """A 401 whose challenge lets the client answer a fresh nonce at once."""
    return reply.status_code == 401 and "stale=true" in reply.headers["www-authenticate"]


async def test_flushed_between_two_uses_the_second_is_refused_by_every_replica(
    redis_server: RedisServer, replica: tuple[Replica, list[str]]
) -> None:
    start, called = replica
    async with AsyncExitStack() as stack:
        one = await stack.enter_async_context(start())
        two = await stack.enter_async_context(start())
        header = await spend(one)
        redis_server.flush()
        again_here = await one.get(TARGET, headers=header)  # this process's own window
        again_there = await two.get(TARGET, headers=header)  # the store's epoch changed
        # A replica started after the flush never knew the old epoch: it starts one at
        # startup, and the nonce is older than that.
        three = await stack.enter_async_context(start())
        again_new = await three.get(TARGET, headers=header)
        # The PBX is not locked out: its next challenge is answered, on any replica.
        auth = httpx.DigestAuth(CREDS.username, CREDS.password)
        after = [(await c.get(TARGET, auth=auth)).status_code for c in (one, two, three)]
    assert refused(again_here) and refused(again_there) and refused(again_new)
    assert after == [200, 200, 200]
    assert len(called) == 4, "only the first use and the fresh challenges reached the handler"


async def test_restarted_empty_between_two_uses_the_second_is_refused(
    redis_server: RedisServer, replica: tuple[Replica, list[str]]
) -> None:
    start, called = replica
    async with start() as one, start() as two:
        header = await spend(one)
        redis_server.stop()
        redis_server.start()  # no persistence: empty, as a restarted cache often is
        replies = [await client.get(TARGET, headers=header) for client in (two, one)]
    assert all(refused(reply) for reply in replies)
    assert len(called) == 1


async def test_frozen_between_two_uses_the_replica_that_accepted_refuses_the_second(
    redis_server: RedisServer, replica: tuple[Replica, list[str]]
) -> None:
    """A frozen Redis (stopped, not dead): requests wait out the store's timeout and are then
    answered from this process's memory, which now holds what this process accepted."""
    start, called = replica
    assert redis_server.proc is not None
    async with start() as one:
        header = await spend(one)
        os.kill(redis_server.proc.pid, signal.SIGSTOP)
        try:
            again = await one.get(TARGET, headers=header)
            fresh = await one.get(TARGET, auth=httpx.DigestAuth(CREDS.username, CREDS.password))
        finally:
            os.kill(redis_server.proc.pid, signal.SIGCONT)
        thawed = await one.get(TARGET, headers=header)
    assert refused(again) and refused(thawed)
    assert fresh.status_code == 200, "a frozen store never stops calls being answered"
    assert len(called) == 2


async def test_on_an_empty_store_the_first_call_after_startup_is_answered(
    replica: tuple[Replica, list[str]],
) -> None:
    """The epoch is read (here: started) when the server starts, not at the first response:
    otherwise the first challenge's nonce would be older than the epoch, and stale."""
    start, called = replica
    async with start() as one:
        first = await one.get(TARGET, auth=httpx.DigestAuth(CREDS.username, CREDS.password))
    assert first.status_code == 200
    assert called == ["101"]
