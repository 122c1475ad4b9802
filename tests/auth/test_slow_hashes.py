"""htpasswd routes over real HTTP through a whole app: bcrypt off the event loop, constant work.

A route with an ``htpasswd -B -C 12`` file (made here with bcrypt, as Apache's tool makes it) next
to an ordinary route. What is asserted is the mechanism (which thread hashed, against which hash);
the latency figures are printed, and bounded only generously.
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

from ivrhooks import ActionRequest, IVRHooks, RegistrationConfig, call
from ivrhooks.auth import StaticCredentials, derive_credentials
from ivrhooks.auth.hashed import HashedPasswords
from ivrhooks.testing import serve

SECRET = "slow-hashes-secret-012345"
MENU = derive_credentials(SECRET, "menu")
USER, PASSWORD = "operator1", "s3cretpass"
QUERY = "?from=101&to=8000&input=1"


def app_with(htpasswd: Path) -> tuple[IVRHooks, list[str]]:
    app = IVRHooks(
        receptionists=["8000"],
        secret=SECRET,
        env=False,
        registration=RegistrationConfig(method="GET"),
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
    path.write_text(f"{USER}:{bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(cost)).decode()}\n")
    return path


@dataclass
class Hashes:
    started: list[str] = field(default_factory=list)  # the thread of each slow check
    results: list[bool | None] = field(default_factory=list)  # those that finished


@pytest.fixture
def hashes(monkeypatch: pytest.MonkeyPatch) -> Hashes:
    """Every slow check: the thread it started in, and its result once it finished."""
    seen = Hashes()
    verify = HashedPasswords.verify

    def spy(self: HashedPasswords, username: str, password: str) -> bool | None:
        seen.started.append(threading.current_thread().name)
        result = verify(self, username, password)
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
    async with serve(app) as url:
        guessers = [client_from(url, f"127.0.0.{n}") for n in (2, 3, 4)]  # under the throttle
        pbx = httpx.AsyncClient(base_url=url)

        async def menu_latency() -> float:
            start = time.perf_counter()
            r = await pbx.get(f"/hooks/menu{QUERY}", auth=(MENU.username, MENU.password))
            assert r.status_code == 200
            return time.perf_counter() - start

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
    print(
        f"\nother route during 12 bcrypt-12 guesses: n={len(latencies)} "
        f"p50={statistics.median(latencies) * 1000:.1f} ms p99={p99 * 1000:.1f} ms "
        f"(without them: p99={quiet * 1000:.1f} ms); "
        f"guesses: {sorted(r.status_code for r in refused)} after {len(hashes.started)} hashes"
    )
    assert {r.status_code for r in refused} <= {401, 429}, "refused (some as busy), never 5xx"
    assert called == []
    # The mechanism: every hash ran in the hash runner's threads, none on the event loop.
    assert hashes.started, "the guesses were hashed"
    assert all(name.startswith("ivrhooks-hash") for name in hashes.started), hashes
    # On the event loop each bcrypt-12 hash stalled every route for ~250 ms (p99 of seconds
    # for twelve). Here under 100 ms, or no worse than twice what a loaded machine gives anyway.
    assert p99 < max(0.1, 2 * quiet), (p99, quiet)


async def _timed(client: httpx.AsyncClient, user: str, password: str) -> tuple[int, float]:
    start = time.perf_counter()
    r = await client.get(f"/hooks/vault{QUERY[:-1]}2", auth=(user, password))
    return r.status_code, time.perf_counter() - start


async def test_an_unknown_user_costs_the_same_hash_as_a_wrong_password(
    tmp_path: Path, hashes: Hashes, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, called = app_with(htpasswd_file(tmp_path, 10))
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
    known_ms = statistics.median(t for _, t in known) * 1000
    unknown_ms = statistics.median(t for _, t in unknown) * 1000
    print(f"\nwrong password {known_ms:.1f} ms, unknown user {unknown_ms:.1f} ms (bcrypt-10)")
    assert unknown_ms > known_ms / 3, "same order of magnitude (it was ~1 ms vs ~240 ms)"


def _stores(app: IVRHooks) -> list[HashedPasswords]:
    server = app._default_server()
    return [
        served.authenticator._store  # type: ignore[union-attr]
        for served in server.routes.values()
        if isinstance(getattr(served.authenticator, "_store", None), HashedPasswords)
    ]
