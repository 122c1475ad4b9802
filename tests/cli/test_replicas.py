"""Three ``ivrhooks run`` processes sharing one real redis-server and one fake PBX, behind a
round-robin address, as a deployment with replicas runs: a Digest response spent on one replica
is refused by the others; only one replica logs in and writes; killing it hands registration to
another, which heals drift; a stopped Redis leaves every call answered in time; an old and a new
version running together end with the new entries and then write nothing."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from ivrhooks.core.auth import derive_credentials
from ivrhooks.testing import FakePBX, serve
from tests.auth.helpers import challenges, digest_fields, digest_header
from tests.ports import spare_port
from tests.proxy import RoundRobin, round_robin
from tests.redis_server import RedisServer

ROOT = Path(__file__).resolve().parents[2]
SECRET = "replicas-e2e-secret-0123456789abcdef"


def _app_source(routes: str) -> str:
    lines = ["from ivrhooks import IVRHooks, call", 'app = IVRHooks(receptionists=["8000"])']
    for digit in routes:
        lines += [
            f'@app.dtmf("{digit}")',
            f"async def key{digit}(req):",
            f'    return call("20{digit}")',
        ]
    return "\n".join(lines) + "\n"


@dataclass
class Replica:
    proc: subprocess.Popen[bytes]
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


async def _until(check: Callable[[], object], limit: float = 30.0) -> None:
    # A bounded poll: the state changes in other processes.
    deadline = time.monotonic() + limit
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        assert time.monotonic() < deadline, "condition not reached"
        await asyncio.sleep(0.1)


async def _status(url: str) -> int:
    try:
        async with httpx.AsyncClient(timeout=1) as http:
            return (await http.get(url)).status_code
    except httpx.TransportError:
        return 0


async def _registrar(replica: Replica) -> bool:
    async with httpx.AsyncClient(timeout=2) as http:
        try:
            text = (await http.get(replica.url + "/metrics")).text
        except httpx.TransportError:
            return False
    return any(line.startswith("ivrhooks_registrar 1") for line in text.splitlines())


@asynccontextmanager
async def deployment(
    tmp_path: Path, redis: RedisServer, versions: list[str], **env_extra: str
) -> AsyncIterator[tuple[FakePBX, list[Replica], RoundRobin]]:
    fake = FakePBX()
    fake.add_ivr("8000", "Main")
    ports = [spare_port() for _ in versions]
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
            IVRHOOKS_AUTH="digest",
            IVRHOOKS_PBX_RATE="1000",
            # The shortest lease there is: a dead registrar keeps the others waiting 1 s.
            IVRHOOKS_REGISTRAR_LEASE="1",
            IVRHOOKS_RECONCILE_INTERVAL="1",
        )
        env.update(env_extra)
        replicas = []
        try:
            for index, (port, routes) in enumerate(zip(ports, versions, strict=True)):
                # Each version in a directory of its own, under one module name (one app).
                folder = tmp_path / f"v{index}-{routes}"
                folder.mkdir()
                (folder / "menu.py").write_text(_app_source(routes))
                command = [sys.executable, "-m", "ivrhooks", "run", str(folder / "menu.py")]
                proc = subprocess.Popen(  # noqa: ASYNC220 - started once, waited for by polling
                    [*command, "--port", str(port), "--log-level", "warning"],
                    cwd=ROOT,
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                replicas.append(Replica(proc, port))
                if index == 0 and len(set(versions)) > 1:
                    # A rolling deploy: the old version runs (and registers) before the new.
                    ready = f"http://127.0.0.1:{port}/readyz"

                    async def up(url: str = ready) -> bool:
                        return await _status(url) == 200

                    await _until(up)
            yield fake, replicas, proxy
        finally:
            for replica in replicas:
                if replica.proc.poll() is None:
                    replica.proc.terminate()
            for replica in replicas:
                replica.proc.wait(15)


async def _passes(replicas: list[Replica]) -> float:
    """Reconcile passes run so far, across the replicas (the registrar's, whichever it is)."""
    total = 0.0
    async with httpx.AsyncClient(timeout=2) as http:
        for replica in replicas:
            try:
                text = (await http.get(replica.url + "/metrics")).text
            except httpx.TransportError:
                continue
            runs = [
                line
                for line in text.splitlines()
                if line.startswith("ivrhooks_reconcile_runs_total")
            ]
            total += sum(float(line.rsplit(" ", 1)[1]) for line in runs)
    return total


async def _more_passes(replicas: list[Replica], count: int) -> None:
    done = await _passes(replicas)

    async def more() -> bool:
        return await _passes(replicas) >= done + count

    await _until(more)


async def _all_ready(replicas: list[Replica]) -> bool:
    return all([await _status(r.url + "/readyz") == 200 for r in replicas])


async def test_three_replicas_one_registrar_shared_replay_windows_and_redis_failing(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    async with deployment(tmp_path, redis_server, ["12", "12", "12"]) as (fake, replicas, proxy):
        await _until(lambda: _all_ready(replicas))
        # One replica logged in and wrote; the others only looked.
        assert fake.tokens.logins == 1
        assert (fake.counters.creates, fake.counters.updates) == (2, 0)

        # A Digest response spent on one replica is refused on the others.
        creds = derive_credentials(SECRET, "key1")
        target = "/hooks/key1"
        body = {"from": "101", "to": "8000", "input": "1", "session_id": "1"}
        async with httpx.AsyncClient() as http:
            first = await http.post(replicas[0].url + target, json=body)
            ch = challenges(list(first.headers.raw))[0]
            header = digest_header(
                digest_fields(
                    username=creds.username,
                    password=creds.password,
                    nonce=ch["nonce"],
                    uri=target,
                    method="POST",
                    opaque=ch["opaque"],
                )
            ).decode()
            answers = [
                (await http.post(r.url + target, json=body, headers={"authorization": header}))
                for r in replicas
            ]
        assert [a.status_code for a in answers] == [200, 401, 401]

        # Kill the registrar: another takes over and puts an edited entry back.
        holders = [r for r in replicas if await _registrar(r)]
        assert len(holders) == 1
        holder = holders[0]
        holder.proc.send_signal(signal.SIGKILL)
        holder.proc.wait(10)
        proxy.down.add(replicas.index(holder))
        entry = next(
            u for u in fake.action_urls("8000") if str(u.name).startswith("ivrhooks:key1@")
        )
        fake.resources.update_action_url(fake.ivr("8000").id, entry.id, {"dtmf_mask": "7"})
        survivors = [r for r in replicas if r is not holder]

        async def healed() -> bool:
            now = next(u for u in fake.action_urls("8000") if u.id == entry.id)
            return now.dtmf_mask == "1" and any([await _registrar(r) for r in survivors])

        await _until(healed, limit=20)

        # Stop Redis under load: every call through the balancer is answered 200 before the
        # PBX gives up on it (the fake PBX, like PortSIP, waits request_timeout = 2 s).
        redis_server.stop()
        results = []
        try:
            for _ in range(5):  # 40 calls, 8 at a time
                results += await asyncio.gather(
                    *(fake.dial(to="8000", caller="101", digits="12"[n % 2]) for n in range(8))
                )
        finally:
            redis_server.start()
    assert [(r.status, r.error) for r in results] == [(200, None)] * 40
    assert {r.destination for r in results} == {"201", "202"}


async def test_an_old_and_a_new_version_end_with_the_new_entries_and_no_flapping(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    async with deployment(
        tmp_path, redis_server, ["12", "12", "13"], IVRHOOKS_RECONCILE_INTERVAL="0.25"
    ) as (fake, replicas, _):

        def names() -> list[str]:
            return sorted(str(u.name).partition("@")[0] for u in fake.action_urls("8000"))

        await _until(lambda: names() == ["ivrhooks:key1", "ivrhooks:key3"])
        # Counted in reconcile passes, not slept: the pass that converged ends, then three more
        # run, whatever the machine's load makes of their 0.25 s interval.
        await _more_passes(replicas, 1)
        writes = fake.counters.writes
        await _more_passes(replicas, 3)
        assert fake.counters.writes == writes, "after convergence: not one write"

        # Each replica says so at its next look at the registrar's record (every third of the
        # 1 s lease): waited for, not assumed to be done by now.
        async def settled() -> bool:
            return [await _status(r.url + "/readyz") for r in replicas] == [503, 503, 200]

        await _until(settled)
        states = [await _status(r.url + "/readyz") for r in replicas]
    assert states == [503, 503, 200], "the old version says it is superseded"
