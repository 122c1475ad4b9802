"""The benchmark's apps answer the decision, and ivrhooks's rows really authenticate.

Not a timing test: it checks that what bench/e2e.py measures is correct work (a 401 answered
faster than a 200 would make ivrhooks look fast), over real HTTP on loopback.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench.apps import DECISION, SECRET, query_for
from bench.apps.ivr import build
from ivrhooks.core.auth import derive_credentials
from ivrhooks.server.loopback import free_port, serve

ROOT = Path(__file__).resolve().parent.parent
EXPECTED = json.loads(DECISION)


def _bare() -> Any:
    from bench.apps.bare import app

    return app


def _raw() -> Any:
    from bench.apps.raw import app

    return app


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("factory", [_bare, _raw], ids=["bare-starlette", "raw-asgi"])
async def test_reference_apps_answer_the_decision(factory: Callable[[], Any], method: str) -> None:
    async with serve(factory()) as base_url, httpx.AsyncClient(base_url=base_url) as client:
        reply = await client.request(method, f"/hooks/r5?{query_for(5)}")
    assert reply.status_code == 200
    assert reply.json() == EXPECTED


@pytest.mark.parametrize("scheme", ["basic", "digest", "bearer"])
async def test_ivrhooks_app_answers_only_with_the_routes_credentials(scheme: str) -> None:
    app = build(10, scheme)
    creds = derive_credentials(SECRET, "r5")
    other = derive_credentials(SECRET, "r6")
    auth: dict[str, httpx.Auth] = {
        "basic": httpx.BasicAuth(creds.username, creds.password),
        "digest": httpx.DigestAuth(creds.username, creds.password),
    }
    wrong: dict[str, httpx.Auth] = {
        "basic": httpx.BasicAuth(other.username, other.password),
        "digest": httpx.DigestAuth(other.username, other.password),
    }
    good_headers = {"Authorization": f"Bearer {creds.token}"} if scheme == "bearer" else {}
    bad_headers = {"Authorization": f"Bearer {other.token}"} if scheme == "bearer" else {}
    async with serve(app) as base_url, httpx.AsyncClient(base_url=base_url) as client:
        url = f"/hooks/r5?{query_for(5)}"
        ok = await client.get(url, auth=auth.get(scheme), headers=good_headers)
        refused = await client.get(url, auth=wrong.get(scheme), headers=bad_headers)
        anonymous = await client.get(url)
    assert ok.status_code == 200
    assert ok.json() == EXPECTED
    assert refused.status_code == anonymous.status_code == 401


async def test_ivrhooks_post_body_is_served() -> None:
    app = build(10, "basic")
    creds = derive_credentials(SECRET, "r5")
    fields = dict(pair.split("=") for pair in query_for(5).split("&"))
    async with serve(app) as base_url, httpx.AsyncClient(base_url=base_url) as client:
        reply = await client.post(
            "/hooks/r5", json=fields, auth=httpx.BasicAuth(creds.username, creds.password)
        )
    assert reply.status_code == 200
    assert reply.json() == EXPECTED


@pytest.mark.skipif(importlib.util.find_spec("fastapi") is None, reason="fastapi not installed")
async def test_fastapi_app_checks_basic_auth() -> None:
    from bench.apps.fastapi_basic import app

    creds = derive_credentials(SECRET, "r500")  # the app guards the route the load hits
    async with serve(app) as base_url, httpx.AsyncClient(base_url=base_url) as client:
        url = f"/hooks/r500?{query_for(500)}"
        ok = await client.get(url, auth=httpx.BasicAuth(creds.username, creds.password))
        refused = await client.get(url, auth=httpx.BasicAuth(creds.username, "wrongpass1"))
    assert ok.status_code == 200
    assert ok.json() == EXPECTED
    assert refused.status_code == 401


async def _loadgen(*args: str) -> dict[str, int]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "bench/loadgen.py",
        "-c2",
        "-d0.3",  # hundreds of requests on loopback: every answer counted, as over a second
        *args,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0
    result: dict[str, int] = json.loads(out.decode().split("WRKJSON ", 1)[1])
    return result


async def test_fallback_load_generator_counts_every_answer() -> None:
    """bench/loadgen.py (used when wrk is absent) for a moment against a live app."""
    async with serve(_raw()) as base_url:
        result = await _loadgen(f"{base_url}/hooks/r5?{query_for(5)}")
    assert result["requests"] > 0
    assert result["non2xx"] == result["errors"] == 0


async def test_fallback_load_generator_does_the_digest_round_trip() -> None:
    creds = derive_credentials(SECRET, "r5")
    async with serve(build(10, "digest")) as base_url:
        result = await _loadgen(
            "--digest",
            f"{creds.username}:{creds.password}:ivrhooks",
            f"{base_url}/hooks/r5?{query_for(5)}",
        )
    authorised = result["requests"] - result["non2xx"]
    assert authorised > 0
    assert abs(result["non2xx"] - authorised) <= 2  # one challenge per authorised request
    assert result["errors"] == 0


async def test_reconcile_bench_runs_against_a_fake_pbx_in_its_own_process() -> None:
    """bench/reconcile.py, tiny: it starts `ivrhooks fake-pbx`, reconciles twice, reports."""
    # Rate 6: the fresh pass's 8 requests (a login, 7 API calls) wait once for the budget; the
    # pass in sync (3 reads) then fits in the budget's window and waits for nothing.
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "bench/reconcile.py",
        *("--receptionists", "2", "--routes", "2", "--latency", "0", "--rate", "6"),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0
    fresh, in_sync = out.decode().splitlines()[1:3]
    assert "7 API calls (3 reads, 4 creates" in fresh and "plan drift 4" in fresh
    assert "plan drift 0" in in_sync
    # Reported, not judged here (tests/pbx/test_ratelimit.py holds the budget to its rate).
    assert int(fresh.split("busiest second at the PBX ")[1].split()[0]) >= 1


def test_session_bench_prints_memory_and_redis_rows_it_verified() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "sessions.py"), "--requests", "60"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    header, *table, verified = done.stdout.splitlines()
    assert header.split()[0] == "store"
    rows = {line.split()[0]: line.split()[1:] for line in table}
    assert set(rows) == {"memory", "redis"}
    assert all(float(v) > 0 for values in rows.values() for v in values[:2])
    assert verified.startswith("verified: every request answered 200 call 2001; "), verified


async def test_the_session_bench_stops_when_redis_did_not_answer() -> None:
    # A Redis row answered from the fallback memory would be the memory row under another name.
    from bench.sessions import row

    with pytest.raises(SystemExit, match="answered from this process's memory because the Redis"):
        await row("redis", f"redis://127.0.0.1:{free_port()}/0", 20)


async def test_the_session_bench_stops_on_an_answer_other_than_the_decision() -> None:
    from bench.sessions import build, measure

    server = build(None)
    # Input 1 is not the route's mask: the built-in repeat() answers, fast and wrong.
    with pytest.raises(SystemExit, match=r"request 0 to /hooks/remembers answered 200 .*'repeat'"):
        await measure(server, "memory", "remembers", "1", 20, ["c1"])


async def test_the_session_bench_stops_when_the_sessions_are_not_in_the_store() -> None:
    from bench.sessions import build, measure, verify_sessions

    calls = ["c1", "c2"]
    server = build(None)
    await measure(server, "memory", "plain", "1", 20, calls)  # never asks for the session
    with pytest.raises(SystemExit, match="no session c1 in the memory store after 10 writes"):
        await verify_sessions("memory", server, None, calls, 20)
    with pytest.raises(SystemExit, match="the app's store is memory, not Redis"):
        await verify_sessions("redis", server, "redis://127.0.0.1:9/0", calls, 20)


async def test_the_store_cost_bench_measures_accepted_checks_and_saved_sessions(
    redis_server: Any,
) -> None:
    # bench/shared_store.py's per-operation rows: each operation must have done its work
    # (a fresh nonce accepted, a session written); the bench stops otherwise.
    from bench.shared_store import store_costs

    rows = dict(await store_costs(redis_server.url, 40))
    assert set(rows) == {
        "replay check, memory",
        "replay check, memory store",
        "session read + write, memory store",
        "replay check, Redis store",
        "session read + write, Redis store",
    }
    with pytest.raises(SystemExit, match="answered 'replay'"):
        await store_costs(redis_server.url, 40)  # the same nonces again: Redis refuses them


async def test_tracing_cost_bench_runs_every_mode() -> None:
    """bench/tracing_cost.py, tiny: every mode answers 200 (it aborts otherwise) and reports."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "bench/tracing_cost.py",
        *("--requests", "20", "--rounds", "1"),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0
    text = out.decode()
    for mode in ("tracing off", "one observer added", "BatchSpanProcessor", "SDK floor"):
        assert mode in text


@pytest.mark.parametrize("mode", ["absent", "off", "sdk"])
async def test_the_otel_bench_app_builds_in_each_mode(mode: str) -> None:
    """bench/apps/ivr_otel.py as `ivrhooks run` imports it: absent really hides OpenTelemetry,
    and only the SDK mode traces."""
    script = (
        "import sys; from bench.apps import ivr_otel; server = ivr_otel.app.build(); "
        "print(server.endpoint.trace is not None, "
        "any(m.startswith('opentelemetry') for m in sys.modules))"
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        script,
        cwd=ROOT,
        env={**os.environ, "BENCH_OTEL": mode, "BENCH_ROUTES": "3", "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0
    traced, imported = out.decode().split()
    assert (traced, imported) == {
        "absent": ("False", "False"),
        "off": ("False", "True"),
        "sdk": ("True", "True"),
    }[mode]


def test_the_toolkit_bench_runs_every_row_beside_another_checkout() -> None:
    # The same checkout as its own baseline: the rows run, verified, and a ratio is printed.
    command = [sys.executable, "bench/toolkit.py", "--requests", "200", "--rounds", "1"]
    done = subprocess.run(
        [*command, "--baseline", str(ROOT)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    medians = done.stdout.split("medians")[1]
    for row in ("plain", "before: plain", "middleware", "resource", "local"):
        assert row in medians
    assert "before: plain      / plain:" in done.stdout


def test_the_import_bench_prints_what_each_import_loads() -> None:
    done = subprocess.run(
        [sys.executable, "bench/import_time.py", "--runs", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    assert "import ivrhooks:" in done.stdout and "heavy: none" in done.stdout


def test_the_events_http_bench_runs_every_row_and_verifies_it() -> None:
    """bench/events_http.py, tiny: `ivrhooks run` as shipped and with Redis under load, the
    inbox alone, presence reads in a handler; it stops on any unverified figure."""
    tiny = ["--seconds", "1", "--warmup", "0", "--connections", "2", "--inbox-events", "100"]
    done = subprocess.run(
        [sys.executable, "bench/events_http.py", *tiny, "--presence-reads", "20"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    rows = {line[:30].strip(): line[30:].split() for line in done.stdout.splitlines()}
    shipped, redis = rows["run, as shipped (memory)"], rows["run, Redis inbox"]
    assert shipped[3] == "1.00" and float(shipped[0].replace(",", "")) > 0
    assert float(redis[0].replace(",", "")) > 0 and float(redis[6].replace(",", "")) > 0
    assert {"inbox alone, memory", "inbox alone, Redis"} <= set(rows)
    assert "memory   p50" in done.stdout and "Redis    p50" in done.stdout
    assert done.stdout.rstrip().splitlines()[-1].startswith("verified: every 200 stored")
