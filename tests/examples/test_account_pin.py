"""examples/account_pin.py: the account number on one receptionist, the PIN on the next, the CRM,
three tries. Through the fake PBX in memory, and across two ``ivrhooks run`` processes sharing a
real redis-server behind one round-robin address."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from crm_service import create_app

from ivrhooks.cli.loader import load_app
from ivrhooks.testing import FakePBX, running, serve
from tests.ports import refused_port, spare_port
from tests.proxy import round_robin
from tests.redis_server import RedisServer

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = str(ROOT / "examples" / "account_pin.py")


@pytest.fixture
async def crm_url(tmp_path: Path) -> AsyncIterator[str]:
    async with serve(create_app(tmp_path / "crm.sqlite3")) as url:
        yield url


def _hops(flow: object) -> list[tuple[str, str | None, str | None]]:
    return [(h.fields["to"], h.action, h.destination) for h in flow.hops]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        (["31234", "2468"], [("8000", "call", "8001"), ("8001", "call", "2001")]),
        (
            ["31234", "1111", "2468"],
            [("8000", "call", "8001"), ("8001", "repeat", None), ("8001", "call", "2001")],
        ),
        (
            ["31234", "1111", "2222", "3333", "2468"],
            [
                ("8000", "call", "8001"),
                ("8001", "repeat", None),
                ("8001", "repeat", None),
                ("8001", "call", "0"),  # the third wrong PIN: the operator, not the prompt
            ],
        ),
        (["99999", "2468"], [("8000", "call", "8001"), ("8001", "repeat", None)]),
    ],
    ids=["right-pin", "second-try", "three-wrong", "unknown-account"],
)
async def test_the_two_step_menu(
    crm_url: str, monkeypatch: pytest.MonkeyPatch, keys: list[str], expected: list[object]
) -> None:
    monkeypatch.setenv("CRM_URL", crm_url)
    async with running(load_app(EXAMPLE)) as harness:
        flow = await harness.pbx.call("8000", "101", keys)
    assert _hops(flow)[: len(expected)] == expected


async def test_a_crm_that_is_down_sends_the_caller_to_the_operator_in_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with refused_port() as port:
        monkeypatch.setenv("CRM_URL", f"http://127.0.0.1:{port}")
        async with running(load_app(EXAMPLE)) as harness:
            flow = await harness.pbx.call("8000", "101", ["31234", "2468"])
    assert _hops(flow) == [("8000", "call", "8001"), ("8001", "call", "0")]
    assert all(h.latency < 1.5 for h in flow.hops)


def _replica(port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ivrhooks",
            "run",
            EXAMPLE,
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def _ready(url: str, procs: list[subprocess.Popen[bytes]], limit: float = 40.0) -> None:
    deadline = time.monotonic() + limit
    async with httpx.AsyncClient() as http:
        while True:  # a bounded poll: the replicas start in other processes
            try:
                if (await http.get(url, timeout=1)).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            assert all(p.poll() is None for p in procs), "a replica exited"
            assert time.monotonic() < deadline, f"{url} not ready"
            await asyncio.sleep(0.1)


async def test_two_replicas_sharing_redis_carry_the_call_between_them(
    crm_url: str, redis_server: RedisServer
) -> None:
    fake = FakePBX()
    fake.add_ivr("8000", "Accounts")
    fake.add_ivr("8001", "PINs")
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
            IVRHOOKS_SECRET="account-pin-replicas-secret-0123",
            IVRHOOKS_PUBLIC_URL=public,
            IVRHOOKS_REDIS_URL=redis_server.url,
            IVRHOOKS_PBX_RATE="1000",
            CRM_URL=crm_url,
        )
        procs = [_replica(port, env) for port in ports]
        try:
            for port in ports:
                await _ready(f"http://127.0.0.1:{port}/readyz", procs)
            before = len(proxy.connections)
            flow = await fake.call("8000", "101", ["31234", "1111", "2468"])
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.wait(15)
    assert _hops(flow) == [
        ("8000", "call", "8001"),
        ("8001", "repeat", None),
        ("8001", "call", "2001"),
    ]
    served_by = proxy.connections[before:]
    assert sorted(set(served_by)) == [0, 1], "the call's requests reached both replicas"
    assert fake.tokens.logins == 1, "one registrar logged in"
