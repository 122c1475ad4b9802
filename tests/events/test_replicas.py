"""Two ``ivrhooks run`` replicas sharing a real redis-server behind a round-robin address, the fake
PBX posting every call's events (some twice) to that address: one replica is killed (SIGKILL)
while its handler is in the middle of events. Every event is still handled — those it held are
taken over by the other after ``IVRHOOKS_EVENTS_CLAIM_AFTER`` — and none twice at the same
attempt: a copy that reaches the other replica is recognised there (docs/events.md, "With
Redis, once across replicas")."""

from __future__ import annotations

import asyncio
import functools
import os
import random
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import redis.asyncio as aioredis

from ivrhooks.fakepbx.webhooks import EventFaults, SentEvent
from ivrhooks.testing import FakePBX, serve
from tests.events.served import basic_auth, delivered, digests, outcomes, point_events, until
from tests.ports import spare_port
from tests.proxy import RoundRobin, round_robin
from tests.redis_server import RedisServer

ROOT = Path(__file__).resolve().parents[2]
SECRET = "events-replicas-secret-0123456789"

# Each replica notes in Redis (db 1, apart from the app's keys) when it starts and ends each
# event, by process, digest and attempt; the handler takes 0.1 s, so a replica always holds some.
APP = """
import asyncio, os
import redis.asyncio as aioredis
from ivrhooks import IVRHooks, call
from ivrhooks.events import ExtensionEvent, event_digest

app = IVRHooks(receptionists=["8000"])


@app.resource
async def log():
    client = aioredis.Redis.from_url(os.environ["EVENTS_LOG_URL"])
    try:
        yield client
    finally:
        await client.aclose()


@app.event("*")
async def note(event, log):
    kind = "extension" if isinstance(event, ExtensionEvent) else "cdr"
    entry = f"{os.getpid()} {event_digest(kind, event.raw)} {event.attempt}"
    await log.rpush("started", entry)
    await asyncio.sleep(0.1)
    await log.rpush("done", entry)


@app.dtmf("1-4")
async def forward(req):
    return call("200" + req.digits)
"""


@dataclass
class Replica:
    proc: subprocess.Popen[bytes]
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


async def _ready(http: httpx.AsyncClient, replica: Replica) -> bool:
    try:
        return (await http.get(replica.url + "/readyz")).status_code == 200
    except httpx.TransportError:
        return False


@asynccontextmanager
async def deployment(
    tmp_path: Path, redis: RedisServer
) -> AsyncIterator[tuple[FakePBX, list[Replica], RoundRobin, str]]:
    # Some events twice; retries spread over 6 s (PortSIP's: 15 minutes or more).
    fake = FakePBX(
        event_faults=EventFaults(duplicate=0.3, rng=random.Random(5)),
        event_retry_waits=(0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2),
    )
    fake.add_ivr("8000", "Main")
    (tmp_path / "replicated.py").write_text(APP)
    ports = [spare_port(), spare_port()]
    async with (
        serve(fake.app) as pbx_url,
        round_robin([("127.0.0.1", p) for p in ports]) as (public, proxy),
    ):
        env = {k: v for k, v in os.environ.items() if not k.startswith("IVRHOOKS_")}
        env.update(
            IVRHOOKS_PBX_URL=pbx_url + "/api",
            IVRHOOKS_PBX_USERNAME=fake.username,
            IVRHOOKS_PBX_PASSWORD=fake.password,
            IVRHOOKS_SECRET=SECRET,
            IVRHOOKS_PUBLIC_URL=public,
            IVRHOOKS_REDIS_URL=redis.url,
            IVRHOOKS_EVENTS_CLAIM_AFTER="1",
            # 16 at once: each replica still holds several 0.1 s handlers when one is killed,
            # and the calls' ~200 events are handled as they come rather than queued behind 4.
            IVRHOOKS_EVENTS_CONCURRENCY="16",
            EVENTS_LOG_URL=redis.url.removesuffix("/0") + "/1",
        )
        replicas: list[Replica] = []
        try:
            for port in ports:
                command = [sys.executable, "-m", "ivrhooks", "run", str(tmp_path / "replicated.py")]
                with (tmp_path / f"replica-{port}.log").open("wb") as out:
                    proc = subprocess.Popen(  # noqa: ASYNC220 - started once, polled for readiness
                        [*command, "--port", str(port), "--log-level", "warning"],
                        cwd=ROOT,
                        env=env,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                    )
                replicas.append(Replica(proc, port))
            # One client for the whole poll: making one costs ~30 ms of CPU (its TLS context),
            # taken from the replicas starting beside it.
            async with httpx.AsyncClient(timeout=1) as http:
                for replica in replicas:
                    await until(functools.partial(_ready, http, replica), limit=30)
            point_events(fake, public, SECRET)
            yield fake, replicas, proxy, env["EVENTS_LOG_URL"]
        finally:
            await fake.stop_events()
            for replica in replicas:
                if replica.proc.poll() is None:
                    replica.proc.terminate()
            for replica in replicas:
                replica.proc.wait(15)


def _entries(raw: list[Any]) -> list[tuple[int, str, int]]:
    out = []
    for line in raw:
        pid, digest, attempt = line.decode().split()
        out.append((int(pid), digest, int(attempt)))
    return out


async def test_a_replica_killed_mid_stream_loses_no_event_and_copies_are_handled_once(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    async with deployment(tmp_path, redis_server) as (fake, replicas, proxy, log_url):
        log = aioredis.Redis.from_url(log_url)
        try:
            victim, survivor = replicas

            async def place_calls() -> None:
                for n in range(24):  # one after another: events keep coming during the kill
                    await fake.dial("8000", "5551234", "1234"[n % 4])

            calls = asyncio.create_task(place_calls())

            async def holding() -> bool:
                started = _entries(await log.lrange("started", 0, -1))
                done = set(_entries(await log.lrange("done", 0, -1)))
                return sum(e[0] == victim.proc.pid and e not in done for e in started) >= 2

            await until(holding)
            victim.proc.send_signal(signal.SIGKILL)
            victim.proc.wait(10)
            proxy.down.add(0)
            # Events that reached it are copied to the survivor: 200, and not handled again.
            handled_so_far = [s for s in fake.events if s.delivered][:5]
            async with httpx.AsyncClient(timeout=5) as http:
                again = [
                    await http.post(
                        survivor.url + f"/events/{s.kind}",
                        json=s.body,
                        auth=basic_auth(SECRET, s.kind),
                    )
                    for s in handled_so_far
                ]
            await calls
            sent: list[SentEvent] = await fake.events_sent()
            every = digests(sent)

            async def all_done() -> bool:
                done = {e[1] for e in _entries(await log.lrange("done", 0, -1))}
                return every <= done

            await until(all_done, limit=20)
            started = _entries(await log.lrange("started", 0, -1))
            done = _entries(await log.lrange("done", 0, -1))
            survived = await outcomes(survivor.url)
        finally:
            await log.aclose()
    held = {e for e in started if e[0] == victim.proc.pid} - set(done)
    print(
        f"\n{len(sent)} deliveries of {len(every)} events; the killed replica held {len(held)}; "
        f"the survivor claimed {survived['claimed']:.0f}, refused {survived['duplicate']:.0f} "
        "copies"
    )
    assert [a.status_code for a in again] == [200] * len(handled_so_far)
    assert all(delivered(sent).values()), "the PBX got a 200 for every event in the end"
    assert held, "the replica was killed while handling events"
    assert {d for _, d, _ in held} <= {d for pid, d, _ in done if pid == survivor.proc.pid}
    assert survived["claimed"] >= 1
    # At least once, and a copy never makes a second handling: no event twice at one attempt.
    assert {d for _, d, _ in done} == every
    twice = [k for k, n in Counter((d, a) for _, d, a in done).items() if n > 1]
    assert twice == []
    assert survived["duplicate"] >= len(handled_so_far)
