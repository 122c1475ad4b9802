"""Several replicas sharing one redis-server and one fake PBX: one registrar at a time, a quick
hand-over, and the newest generation's entries in the end. Each replica is a server built from
the same declaration, served on loopback in this process."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import httpx

from ivrhooks import IVRHooks, StoreConfig, call
from ivrhooks.core.request import ActionRequest
from ivrhooks.registration import Registration
from ivrhooks.server import Server
from ivrhooks.testing import FakePBX, bind_socket, serve
from tests.redis_server import RedisServer
from tests.registration.helpers import new_app

LEASE = 0.6  # seconds: short, so that a hand-over happens within a test


@dataclass
class Replica:
    server: Server
    service: Registration
    url: str

    @property
    def holding(self) -> bool:
        return self.service.registrar is not None and self.service.registrar.holding


def _app(pbx_base: str, fake: FakePBX, redis_url: str, public_url: str, routes: str) -> IVRHooks:
    app = new_app(pbx_base, fake, public_url=public_url, store=StoreConfig(redis_url=redis_url))
    for digit in routes:

        async def handler(req: ActionRequest, digit: str = digit) -> object:
            return call("20" + digit)

        app.dtmf(digit, name=f"key{digit}")(handler)
    return app


@contextlib.asynccontextmanager
async def replicas(
    pbx_base: str,
    fake: FakePBX,
    redis: RedisServer,
    versions: list[str],
    interval: float = 0.3,
    lease: float = 3.0,
) -> AsyncIterator[list[Replica]]:
    """One replica per entry of ``versions`` (the DTMF keys its version routes), all behind one
    public URL as a load balancer would put them."""
    public = "http://127.0.0.1:9"  # the balancer's address: what the PBX would call
    async with contextlib.AsyncExitStack() as stack:
        made = []
        for routes in versions:
            app = _app(pbx_base, fake, redis.url, public, routes)
            service = Registration(interval=interval, backoff_base=0.05, backoff_cap=0.2)
            service.lease_ttl = lease
            server = app.build(services=[service])
            url = await stack.enter_async_context(serve(server, sock=bind_socket()))
            made.append(Replica(server, service, url))
        yield made


async def _until(check: Callable[[], bool], limit: float = 10.0) -> None:
    # A bounded poll on state another task changes (the replicas' registration loops).
    deadline = asyncio.get_running_loop().time() + limit
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached"
        await asyncio.sleep(0.02)


async def test_only_one_replica_logs_in_and_writes(
    fake: FakePBX, pbx_base: str, redis_server: RedisServer
) -> None:
    async with replicas(pbx_base, fake, redis_server, ["12", "12", "12"]) as group:
        await _until(lambda: sum(r.service.successes for r in group) >= 3)
        holders = [r for r in group if r.holding]
        assert len(holders) == 1
        # Every replica is ready once the registration it serves is in place (the followers
        # look at what the registrar recorded, every third of the lease).
        await _until(lambda: all(r.server.runtime.status.ready for r in group))
        async with httpx.AsyncClient() as http:
            ready = [(await http.get(r.url + "/readyz")).status_code for r in group]
    assert ready == [200, 200, 200]
    assert fake.tokens.logins == 1, "one login to the PBX, not one per replica"
    assert fake.counters.creates == 2 and fake.counters.updates == 0
    assert sorted(str(u.name) for u in fake.action_urls("8000")) == [
        "ivrhooks:key1@test",
        "ivrhooks:key2@test",
    ]


async def test_when_the_registrar_dies_another_takes_over_and_heals_drift(
    fake: FakePBX, pbx_base: str, redis_server: RedisServer
) -> None:
    async with replicas(pbx_base, fake, redis_server, ["12", "12", "12"], lease=LEASE) as group:
        await _until(lambda: any(r.holding and r.service.successes for r in group))
        (first,) = [r for r in group if r.holding]
        # Crash it: its loop stops without releasing the lease (as a killed process would).
        assert first.service.registrar is not None
        first.service.registrar.release = _never  # type: ignore[method-assign]
        await first.service.halt()
        # Meanwhile someone edits an entry on the PBX.
        entry = next(u for u in fake.action_urls("8000") if str(u.name).startswith("ivrhooks:key1"))
        fake.resources.update_action_url(fake.ivr("8000").id, entry.id, {"dtmf_mask": "9"})
        started = asyncio.get_running_loop().time()
        # Taken over once the dead holder's lease expired, without its release: _until's 10 s
        # bound (16 leases) is the only time limit; how long it took is the machine's.
        await _until(lambda: any(r.holding for r in group if r is not first))
        took = asyncio.get_running_loop().time() - started
        print(f"\ntaken over after {took:.2f} s (lease {LEASE} s)")
        await _until(
            lambda: (
                next(
                    u for u in fake.action_urls("8000") if str(u.name).startswith("ivrhooks:key1")
                ).dtmf_mask
                == "1"
            )
        )


async def _never() -> None:
    return None


async def _passes(group: list[Replica], count: int) -> None:
    """Until the group's registrar (whichever replica it is) has finished ``count`` more
    reconcile passes."""
    done = sum(r.service.successes + r.service.failures for r in group)
    await _until(
        lambda: sum(r.service.successes + r.service.failures for r in group) >= done + count
    )


async def test_an_old_and_a_new_generation_end_with_the_new_entries_and_then_no_writes(
    fake: FakePBX, pbx_base: str, redis_server: RedisServer
) -> None:
    async with replicas(pbx_base, fake, redis_server, ["12", "12"], interval=0.2) as old:
        await _until(lambda: any(r.service.successes for r in old))
        # A rolling deploy starts the new version (routes 1 and 3) while the old still runs.
        async with replicas(pbx_base, fake, redis_server, ["13", "13"], interval=0.2) as new:
            await _until(
                lambda: (
                    sorted(str(u.name) for u in fake.action_urls("8000"))
                    == ["ivrhooks:key1@test", "ivrhooks:key3@test"]
                )
            )
            # Counted in registrar passes, not slept: the pass that converged ends, then three
            # more run, whatever the machine's load makes of their 0.2 s interval.
            await _passes(old + new, 1)
            writes = fake.counters.writes
            await _passes(old + new, 3)
            assert fake.counters.writes == writes, "no write after convergence: no flapping"
            # Each replica says so at its next look at what the registrar recorded (every
            # third of the lease, 1 s here): waited for, not assumed to be done by now.
            await _until(
                lambda: (
                    [r.server.runtime.status.ready for r in old + new] == [False, False, True, True]
                )
            )
            async with httpx.AsyncClient() as http:
                states = [(await http.get(r.url + "/readyz")).json() for r in old + new]
                metrics = [(await http.get(r.url + "/metrics")).text for r in old + new]
    assert [s["status"] for s in states] == ["not ready", "not ready", "ready", "ready"]
    # What a rollback needs to know: the numbers (IVRHOOKS_GENERATION above the newest).
    # (Replicas of one version starting at once may both draw a number: the numbers grow but
    # may skip one.)
    found = re.search(
        r"this replica is generation (\d+) .* \(generation (\d+)\)", states[0]["reason"]
    )
    assert found is not None, states[0]["reason"]
    mine, newest = int(found.group(1)), int(found.group(2))
    assert mine == 1 and newest > mine
    generations = [
        next(line for line in text.splitlines() if line.startswith("ivrhooks_generation "))
        for text in metrics
    ]
    assert generations == [f"ivrhooks_generation {n}.0" for n in (mine, mine, newest, newest)]
