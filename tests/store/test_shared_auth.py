"""Auth state shared by replicas through a real redis-server: a Digest response spent on one
replica is refused by the others, two identical ones at once get one answer, a lost reply is
recovered from, failures are counted together, and a Redis that stops changes no answer."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import httpx
import pytest

from ivrhooks import IVRHooks, StoreConfig, call
from ivrhooks.core.auth import derive_credentials
from ivrhooks.core.request import ActionRequest
from ivrhooks.server import Server
from ivrhooks.testing import serve
from tests.auth.helpers import challenges, digest_fields, digest_header
from tests.redis_server import RedisServer

SECRET = "shared-auth-tests-secret-0123456789"
QUERY = "from=101&to=8000&input=1"
CREDS = derive_credentials(SECRET, "sales")


def _app(redis_url: str, scheme: str = "digest") -> IVRHooks:
    app = IVRHooks(
        receptionists=["8000"],
        auth=scheme,  # type: ignore[arg-type]
        secret=SECRET,
        env={"IVRHOOKS_REGISTER": "false", "IVRHOOKS_METHOD": "GET"},
        store=StoreConfig(redis_url=redis_url),
    )

    @app.dtmf("1")
    async def sales(req: ActionRequest) -> object:
        return call("2001")

    return app


@pytest.fixture
async def replicas(redis_server: RedisServer) -> AsyncIterator[list[httpx.AsyncClient]]:
    """Three replicas of one app sharing the redis-server, each served on loopback (started as
    a server starts them: the lifespan reads the shared replay window's epoch)."""
    async with AsyncExitStack() as stack:
        clients = []
        for _ in range(3):
            server: Server = _app(redis_server.url).build()
            url = await stack.enter_async_context(serve(server))
            clients.append(await stack.enter_async_context(httpx.AsyncClient(base_url=url)))
        yield clients


def _answer(challenge_headers: list[tuple[bytes, bytes]], nc: str = "00000001") -> str:
    ch = challenges(challenge_headers)[0]
    fields = digest_fields(
        username=CREDS.username,
        password=CREDS.password,
        nonce=ch["nonce"],
        uri=f"/hooks/sales?{QUERY}",
        opaque=ch["opaque"],
        nc=nc,
    )
    return digest_header(fields).decode()


async def _challenge(client: httpx.AsyncClient) -> list[tuple[bytes, bytes]]:
    first = await client.get(f"/hooks/sales?{QUERY}")
    assert first.status_code == 401
    return list(first.headers.raw)


async def test_a_response_spent_on_one_replica_is_refused_on_the_others(
    replicas: list[httpx.AsyncClient],
) -> None:
    one, two, three = replicas
    header = {"authorization": _answer(await _challenge(one))}
    assert (await one.get(f"/hooks/sales?{QUERY}", headers=header)).status_code == 200
    for other in (two, three, one):
        replayed = await other.get(f"/hooks/sales?{QUERY}", headers=header)
        assert replayed.status_code == 401
        assert "stale=true" in replayed.headers["www-authenticate"], "a resend can recover"
    # The next nc of the same nonce is fine on any replica: it was never seen.
    later = {"authorization": _answer(await _challenge(one), nc="00000001")}
    assert (await two.get(f"/hooks/sales?{QUERY}", headers=later)).status_code == 200


async def test_identical_requests_to_different_replicas_at_once_get_one_answer(
    replicas: list[httpx.AsyncClient],
) -> None:
    header = {"authorization": _answer(await _challenge(replicas[0]))}
    results = await asyncio.gather(
        *(r.get(f"/hooks/sales?{QUERY}", headers=header) for r in replicas * 3)
    )
    assert sorted(r.status_code for r in results) == [200] + [401] * 8


async def test_a_client_whose_reply_was_lost_is_not_locked_out(
    replicas: list[httpx.AsyncClient],
) -> None:
    one, two, _ = replicas
    auth = httpx.DigestAuth(CREDS.username, CREDS.password)
    header = {"authorization": _answer(await _challenge(one))}
    assert (await one.get(f"/hooks/sales?{QUERY}", headers=header)).status_code == 200
    for _ in range(15):  # more resends than the throttle's ten failures a minute
        resent = await two.get(f"/hooks/sales?{QUERY}", headers=header)
        assert resent.status_code == 401
    fresh = await two.get(f"/hooks/sales?{QUERY}", auth=auth)  # takes the new challenge
    assert fresh.status_code == 200, "the same client, after its resends, is answered"


async def test_failures_are_counted_across_replicas(redis_server: RedisServer) -> None:
    servers = [_app(redis_server.url, scheme="basic").build() for _ in range(2)]
    wrong = {
        "authorization": "Basic "
        + base64.b64encode(f"{CREDS.username}:wrongpass1".encode()).decode()
    }
    try:
        clients = [
            httpx.AsyncClient(transport=httpx.ASGITransport(app=s), base_url="http://r")
            for s in servers
        ]
        statuses = []
        for n in range(14):  # alternating: seven each, fourteen in all, past the limit of ten
            statuses.append(
                (await clients[n % 2].get(f"/hooks/sales?{QUERY}", headers=wrong)).status_code
            )
            for s in servers:
                shared = s.endpoint.guard.throttle._shared
                assert shared is not None
                await shared.drain()  # the store has been told: nothing is left in flight
        # Together the replicas reach the limit: a replica hears of it with its own next
        # failure, so a guesser gets at most ten and one per other replica, never ten each.
        assert statuses.count(401) == 11
        assert statuses[11:] == [429, 429, 429]
        right = (CREDS.username, CREDS.password)
        for client in clients:  # derived credentials cannot be guessed: always answered
            assert (await client.get(f"/hooks/sales?{QUERY}", auth=right)).status_code == 200
        for client in clients:
            await client.aclose()
    finally:
        for s in servers:
            await s.runtime.store.close()


async def test_with_redis_stopped_every_call_is_still_answered(
    redis_server: RedisServer, replicas: list[httpx.AsyncClient]
) -> None:
    auth = httpx.DigestAuth(CREDS.username, CREDS.password)
    redis_server.stop()
    loop = asyncio.get_running_loop()
    for client in replicas:
        started = loop.time()
        answered = await client.get(f"/hooks/sales?{QUERY}", auth=auth)
        assert answered.status_code == 200
        assert loop.time() - started < 1.5
    redis_server.start()
    # Started again empty: the nonce the client kept is now stale, and httpx's DigestAuth
    # answers the stale=true challenge itself (tests/store/test_replay_store_loss.py).
    assert (await replicas[0].get(f"/hooks/sales?{QUERY}", auth=auth)).status_code == 200
