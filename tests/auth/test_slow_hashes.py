"""htpasswd routes over real HTTP through a whole app: bcrypt off the event loop, constant work.

A route with an ``htpasswd -B -C 12`` file (made here with bcrypt, as Apache's tool makes it) next
to an ordinary route. What is asserted is the mechanism (which thread hashed, against which hash);
the latency figures are printed, and bounded only generously. The CPU bound (docs/security.md,
"CPU bound for slow hashes"): a source's budget of failed slow checks, and the hash runner's
queue, each refusing with 429 before any hash runs or any handler is reached.
"""

from __future__ import annotations

import asyncio
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bcrypt
import httpx
import pytest

from ivrhooks import ActionRequest, IVRHooks, RegistrationConfig, ServingConfig, call
from ivrhooks.core.auth import StaticCredentials, derive_credentials
from ivrhooks.core.auth.hashed import HashedPasswords
from ivrhooks.testing import serve

SECRET = "slow-hashes-secret-012345"
MENU = derive_credentials(SECRET, "menu")
USER, PASSWORD = "operator1", "s3cretpass"
SPARE, SPARE_PASSWORD = "backup01", "an0therpass"  # in the file, never used before it counts
QUERY = "?from=101&to=8000&input=1"


def app_with(htpasswd: Path, *, deadline: float | None = None) -> tuple[IVRHooks, list[str]]:
    app = IVRHooks(
        receptionists=["8000"],
        secret=SECRET,
        env=False,
        # A longer answer budget needs a longer PBX request_timeout above it.
        registration=RegistrationConfig(method="GET", request_timeout=60 if deadline else 2),
        serving=ServingConfig(deadline=deadline) if deadline else ServingConfig(),
    )
    called: list[str] = []

    @app.dtmf("1")
    async def menu(req: ActionRequest) -> object:
        return call("100")

    @app.dtmf("2", credentials=StaticCredentials(htpasswd=htpasswd))
    async def vault(req: ActionRequest) -> object:
        called.append("vault")
        return call("200")

    return app, called


def htpasswd_file(tmp_path: Path, cost: int) -> Path:
    path = tmp_path / "htpasswd"
    lines = [
        f"{user}:{bcrypt.hashpw(password.encode(), bcrypt.gensalt(cost)).decode()}\n"
        for user, password in ((USER, PASSWORD), (SPARE, SPARE_PASSWORD))
    ]
    path.write_text("".join(lines))
    return path


@dataclass
class Hashes:
    started: list[str] = field(default_factory=list)  # the thread of each slow check
    results: list[bool | None] = field(default_factory=list)  # those that finished
    tried: list[tuple[str, str]] = field(default_factory=list)  # (username, password) hashed
    # What progress() said as each slow check started, and as it finished (-1: not yet).
    progress: Callable[[], int] = lambda: 0
    spans: list[list[int]] = field(default_factory=list)


@pytest.fixture
def hashes(monkeypatch: pytest.MonkeyPatch) -> Hashes:
    """Every slow check: the thread it started in, and its result once it finished."""
    seen = Hashes()
    verify = HashedPasswords.verify

    def spy(self: HashedPasswords, username: str, password: str) -> bool | None:
        seen.started.append(threading.current_thread().name)
        seen.tried.append((username, password))
        span = [seen.progress(), -1]
        seen.spans.append(span)
        result = verify(self, username, password)
        span[1] = seen.progress()
        seen.results.append(result)
        return result

    monkeypatch.setattr(HashedPasswords, "verify", spy)
    return seen


def client_from(url: str, address: str) -> httpx.AsyncClient:
    transport = httpx.AsyncHTTPTransport(local_address=address)
    return httpx.AsyncClient(base_url=url, transport=transport)


async def test_twelve_wrong_bcrypt_12_passwords_never_delay_another_route(
    tmp_path: Path, hashes: Hashes
) -> None:
    app, called = app_with(htpasswd_file(tmp_path, 12))
    answered: list[float] = []  # appended to on the event loop, read from the hash threads
    hashes.progress = answered.__len__
    async with serve(app) as url:
        guessers = [client_from(url, f"127.0.0.{n}") for n in (2, 3, 4)]  # under the throttle
        pbx = httpx.AsyncClient(base_url=url)

        async def menu_latency() -> float:
            start = time.perf_counter()
            r = await pbx.get(f"/hooks/menu{QUERY}", auth=(MENU.username, MENU.password))
            assert r.status_code == 200
            answered.append(time.perf_counter() - start)
            return answered[-1]

        try:
            # The same calls without the flood: what this (shared) machine gives right now.
            baseline = [await menu_latency() for _ in range(50)]
            wrong = [
                guessers[i % 3].get(f"/hooks/vault{QUERY[:-1]}2", auth=(USER, f"wrongpass{i:02d}"))
                for i in range(12)
            ]
            flood = asyncio.gather(*wrong)
            latencies: list[float] = []
            while not flood.done() or len(latencies) < 50:
                latencies.append(await menu_latency())
            refused = await flood
        finally:
            for client in (*guessers, pbx):
                await client.aclose()
    p99 = statistics.quantiles(latencies, n=100)[98]
    quiet = statistics.quantiles(baseline, n=100)[98]
    # Answers completed between each hash's start and its end (or now: a hash may still run
    # after the request that asked for it was answered at its deadline).
    overlapped = [(end if end >= 0 else len(answered)) - start for start, end in hashes.spans]
    print(
        f"\nother route during 12 bcrypt-12 guesses: n={len(latencies)} "
        f"p50={statistics.median(latencies) * 1000:.1f} ms p99={p99 * 1000:.1f} ms "
        f"(without them: p99={quiet * 1000:.1f} ms); "
        f"guesses: {sorted(r.status_code for r in refused)} after {len(hashes.started)} hashes; "
        f"menu answers completed during each hash: {overlapped}"
    )
    assert {r.status_code for r in refused} <= {401, 429}, "refused (some as busy), never 5xx"
    assert called == []
    # The mechanism: every hash ran in the hash runner's threads, none on the event loop.
    assert hashes.started, "the guesses were hashed"
    assert all(name.startswith("ivrhooks-hash") for name in hashes.started), hashes
    # And no answer waited behind a hash: the other route's calls were answered while hashes
    # ran. A hash on the event loop would stall it (~250 ms for bcrypt-12): not one answer
    # could complete between its start and its end. (The latencies above are the machine's
    # figures, printed, not judged: a loaded machine moves them, not this.)
    assert sum(overlapped) > 0, overlapped


async def _timed(client: httpx.AsyncClient, user: str, password: str) -> tuple[int, float]:
    start = time.perf_counter()
    r = await client.get(f"/hooks/vault{QUERY[:-1]}2", auth=(user, password))
    return r.status_code, time.perf_counter() - start


async def test_an_unknown_user_costs_the_same_hash_as_a_wrong_password(
    tmp_path: Path, hashes: Hashes, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A long answer budget: the hash threads run at a lower CPU priority (nice 10), so on a
    # loaded machine a bcrypt-10 check can outlast the default 1.5 s and be answered 429 busy.
    app, called = app_with(htpasswd_file(tmp_path, 10), deadline=30.0)
    used: list[str] = []

    def spy_context(context: Any) -> None:
        real_verify: Callable[..., Any] = context.verify

        def verify(secret: str, hashed: str, *a: Any, **kw: Any) -> Any:
            head = hashed[:7]  # "$2b$10$": the scheme and cost
            used.append(head.decode() if isinstance(head, bytes) else head)
            return real_verify(secret, hashed, *a, **kw)

        monkeypatch.setattr(context, "verify", verify)

    async with serve(app) as url:
        stores = [s for s in _stores(app)]
        spy_context(stores[0]._context)
        async with httpx.AsyncClient(base_url=url) as client:
            known = [await _timed(client, USER, f"wrongpass{i}") for i in range(4)]
            unknown = [await _timed(client, f"nobody{i:02d}", "wrongpass1") for i in range(4)]
    assert {s for s, _ in known + unknown} == {401}
    assert called == []
    # The mechanism: both kinds ran one full hash of the file's scheme and cost, off the loop.
    assert used == ["$2b$10$"] * 8
    assert hashes.results == [False] * 4 + [None] * 4
    assert all(name.startswith("ivrhooks-hash") for name in hashes.started)
    # Printed, not judged (the hash seen above is the check; it was ~1 ms vs ~240 ms before).
    known_ms = statistics.median(t for _, t in known) * 1000
    unknown_ms = statistics.median(t for _, t in unknown) * 1000
    # Printed, not asserted (it was ~1 ms vs ~240 ms): the hashes counted above are the proof,
    # and on a shared machine one median can be ten times the other.
    print(f"\nwrong password {known_ms:.1f} ms, unknown user {unknown_ms:.1f} ms (bcrypt-10)")


def _stores(app: IVRHooks) -> list[HashedPasswords]:
    server = app._default_server()
    return [
        served.authenticator._store  # type: ignore[union-attr]
        for served in server.routes.values()
        if isinstance(getattr(served.authenticator, "_store", None), HashedPasswords)
    ]


#: docs/security.md ("CPU bound for slow hashes"): at most 30 failed slow checks a minute per
#: source, across its usernames (``Throttle(slow_failures=3 * max_failures)``, max_failures 10).
SLOW_BUDGET = 30
VAULT = f"/hooks/vault{QUERY[:-1]}2"


def _failures(metrics: str, reason: str) -> float:
    for line in metrics.splitlines():
        if line.startswith(f'ivrhooks_auth_failures_total{{reason="{reason}"}} '):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def test_a_source_past_its_slow_budget_gets_no_more_hashes_but_the_pbx_is_answered(
    tmp_path: Path, hashes: Hashes
) -> None:
    """A neighbour at the PBX's own address rotates usernames to buy bcrypt: after the budget,
    its slow checks are 429 unhashed; the PBX's remembered credentials, derived credentials and
    other sources are answered as before."""
    # The cost is not the point: cost 4; a long budget, so none is answered busy on a loaded
    # machine (the hash threads run at nice 10).
    app, called = app_with(htpasswd_file(tmp_path, 4), deadline=30.0)
    async with serve(app) as url:
        pbx = httpx.AsyncClient(base_url=url)  # 127.0.0.1, like the neighbour
        elsewhere = client_from(url, "127.0.0.2")
        try:
            first = await pbx.get(VAULT, auth=(USER, PASSWORD))
            assert first.status_code == 200 and called == ["vault"]
            assert len(hashes.tried) == 1
            # Each guess claims a new username: no per-username key is ever throttled.
            spent = [
                await pbx.get(VAULT, auth=(f"guess{i:04d}", "wrongpass1"))
                for i in range(SLOW_BUDGET)
            ]
            assert [r.status_code for r in spent] == [401] * SLOW_BUDGET
            assert len(hashes.tried) == 1 + SLOW_BUDGET, "every one of those was hashed"

            refused = await pbx.get(VAULT, auth=("guess9999", "wrongpass1"))
            # A correct password never seen from this source needs a hash: refused the same way,
            # so a right guess is not told from a wrong one.
            unseen = await pbx.get(VAULT, auth=(SPARE, SPARE_PASSWORD))
            assert len(hashes.tried) == 1 + SLOW_BUDGET, "no slow check past the budget"
            for r in (refused, unseen):
                assert r.status_code == 429 and r.headers["retry-after"].isdigit(), r
            assert called == ["vault"], "a refused request never reaches the handler"

            # The PBX's credentials succeeded before: remembered, answered without a hash.
            again = await pbx.get(VAULT, auth=(USER, PASSWORD))
            menu = await pbx.get(f"/hooks/menu{QUERY}", auth=(MENU.username, MENU.password))
            # The budget is per source: another address still gets its slow check.
            other = await elsewhere.get(VAULT, auth=(SPARE, SPARE_PASSWORD))
            metrics = (await pbx.get("/metrics")).text
        finally:
            await pbx.aclose()
            await elsewhere.aclose()
    assert (again.status_code, menu.status_code, other.status_code) == (200, 200, 200)
    assert called == ["vault", "vault", "vault"]
    assert hashes.tried[1 + SLOW_BUDGET :] == [(SPARE, SPARE_PASSWORD)]
    assert _failures(metrics, "throttled") == 2
    assert _failures(metrics, "bad_credentials") == SLOW_BUDGET


async def test_a_full_hash_queue_answers_429_busy_without_hashing_or_the_handler(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A long answer budget: the queued checks must still be waiting, whatever the machine's load,
    # when the one past the queue arrives.
    app, called = app_with(htpasswd_file(tmp_path, 4), deadline=30.0)
    server = app.build()
    runner = server.endpoint.hashing
    gate = threading.Event()
    tried: list[tuple[str, str]] = []
    verify = HashedPasswords.verify

    def held(self: HashedPasswords, username: str, password: str) -> bool | None:
        tried.append((username, password))
        gate.wait(60)  # every hash thread is held here until the test lets go
        return verify(self, username, password)

    monkeypatch.setattr(HashedPasswords, "verify", held)
    async with serve(server) as url, httpx.AsyncClient(base_url=url, timeout=60) as client:
        try:
            waiting = [
                asyncio.ensure_future(client.get(VAULT, auth=(f"queued{i:04d}", "wrongpass1")))
                for i in range(runner.limit)  # the threads' worth, and a full queue
            ]
            # The runner's count has no event to wait on: polled, with bounds on a hang only.
            async with asyncio.timeout(30):
                while runner.admitted < runner.limit:  # noqa: ASYNC110
                    await asyncio.sleep(0.01)
            # Correct credentials, and one check too many: answered at once, or admitted.
            answer = asyncio.ensure_future(client.get(VAULT, auth=(USER, PASSWORD)))
            async with asyncio.timeout(30):
                while not answer.done() and runner.admitted <= runner.limit:  # noqa: ASYNC110
                    await asyncio.sleep(0.01)
            admitted_past_the_queue = runner.admitted > runner.limit
        finally:
            gate.set()
        busy = await answer
        queued = await asyncio.gather(*waiting)
        metrics = (await client.get("/metrics")).text
        afterwards = await client.get(VAULT, auth=(USER, PASSWORD))
    assert not admitted_past_the_queue
    assert busy.status_code == 429
    assert busy.headers["retry-after"] == "1"
    assert busy.json() == {"error": "too_many_requests"}
    assert _failures(metrics, "busy") == 1
    assert called == ["vault"], "only the request after the queue drained reached the handler"
    assert tried[-1] == (USER, PASSWORD) and tried.count((USER, PASSWORD)) == 1, (
        "the busy request was never hashed; the one after was"
    )
    assert [r.status_code for r in queued] == [401] * runner.limit
    assert afterwards.status_code == 200
