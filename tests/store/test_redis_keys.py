"""docs/deployment.md lists every Redis key ivrhooks writes, exactly, and its ACL line covers them:
an app whose Redis user is made from that very line (on a real redis-server) answers Digest
calls, throttles a wrong password, keeps a session and registers through the registrar; Redis
refuses it nothing (``ACL LOG`` stays empty), and every key it wrote matches a documented
pattern."""

from __future__ import annotations

import asyncio
import fnmatch
import re
import secrets
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis

from ivrhooks import (
    AuthConfig,
    EventsConfig,
    IVRHooks,
    PBXConfig,
    RegistrationConfig,
    StaticCredentials,
    StoreConfig,
    call,
)
from ivrhooks.core.request import ActionRequest
from ivrhooks.registration import Registration
from ivrhooks.testing import FakePBX, bind_socket, serve
from tests.redis_server import RedisServer

DOC = Path(__file__).resolve().parents[2] / "docs" / "deployment.md"
SECRET = "redis-keys-tests-secret-0123456789"
APP_ID = "keys01"
PORTAL = ("portal01", "handset0123456789")


def _section() -> str:
    text = DOC.read_text()
    start = text.index("## What lives in Redis")
    return text[start : text.index("\n## ", start + 1)]


def documented_patterns(app_id: str) -> dict[str, str]:
    """The key column of the table, as globs: ``{documented key: glob}``."""
    patterns = {}
    for row in _section().splitlines():
        cells = row.split("|")
        if len(cells) < 4 or not re.search(r"`\{?ivrhooks:", cells[2]):
            continue
        for key in re.findall(r"`([^`]+)`", cells[2]):
            glob = key.replace("<app id>", app_id)
            # Placeholders are any text; a literal '[' or '?' would need escaping in a glob.
            assert not set("[]?*") & set(glob), key
            patterns[key] = re.sub(r"<[^>]+>", "*", glob)
    return patterns


def documented_acl(app_id: str, password: str) -> list[str]:
    """The ``ACL SETUSER`` line of the section, its placeholders filled."""
    (line,) = [line for line in _section().splitlines() if line.startswith("ACL SETUSER ivrhooks ")]
    return line.replace("<app id>", app_id).replace("<password>", password).split()[2:]


@pytest.fixture
def acl_user(redis_server: RedisServer) -> Iterator[tuple[str, redis.Redis]]:
    """The documented user on the test's redis-server; yields its URL and an admin client."""
    admin = redis.Redis.from_url(redis_server.url)
    password = secrets.token_hex(16)
    rules = documented_acl(APP_ID, password)
    version = tuple(int(n) for n in str(admin.info("server")["redis_version"]).split(".")[:2])
    if version < (7, 2):  # as the document says: that Redis has no CLIENT SETINFO to allow
        rules.remove("+client|setinfo")
    admin.execute_command("ACL", "SETUSER", *rules)
    admin.execute_command("ACL", "LOG", "RESET")
    try:
        yield f"redis://ivrhooks:{password}@127.0.0.1:{redis_server.port}/0", admin
    finally:
        admin.execute_command("ACL", "DELUSER", "ivrhooks")
        admin.close()


def _app(
    pbx: FakePBX, pbx_base: str, redis_url: str, public_url: str, outcomes: asyncio.Event
) -> IVRHooks:
    app = IVRHooks(
        receptionists=["8000"],
        auth=AuthConfig(scheme="digest", secret=SECRET),
        pbx=PBXConfig(pbx_base + "/api", username=pbx.username, password=pbx.password),
        registration=RegistrationConfig(public_url=public_url, app_id=APP_ID),
        store=StoreConfig(redis_url=redis_url),
        # The event URLs point here: the inbox, the digests, presence and decisions in Redis;
        # one try per event, so the failing handler below leaves a dead event at once.
        events=EventsConfig(register=True, max_attempts=1),
        env=False,
    )

    @app.event("call_cdr")
    async def outcome(event: object) -> None:
        outcomes.set()

    @app.event("extension_call")
    async def failing(event: object) -> None:
        raise RuntimeError("kept as dead")

    @app.dtmf("1")
    async def sales(req: ActionRequest) -> object:
        session = await req.session()
        session["visits"] = int(session.get("visits", 0)) + 1
        return call("2001")

    # A password configured by hand (guessable): its successes are shared as "good".
    portal = StaticCredentials(username=PORTAL[0], password=PORTAL[1])

    @app.dtmf("2", auth="basic", credentials=portal)
    async def staff(req: ActionRequest) -> object:
        return call("2002")

    return app


async def test_every_key_written_is_documented_and_the_documented_acl_covers_it(
    acl_user: tuple[str, redis.Redis],
) -> None:
    redis_url, admin = acl_user
    pbx = FakePBX()
    pbx.add_ivr("8000", "Main")
    service = Registration(interval=0)
    sock = bind_socket()
    public_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    outcomes = asyncio.Event()
    async with serve(pbx.app) as pbx_base:
        app = _app(pbx, pbx_base, redis_url, public_url, outcomes)
        app.services.append(service)
        server = app.build()
        async with serve(server, sock=sock):
            await asyncio.wait_for(service.wait_for(successes=1), 30)
            for _ in range(3):  # Digest calls: replay windows, the epoch, a session
                answered = await pbx.dial(to="8000", caller="101", digits="1", session_id="77")
                assert (answered.status, answered.destination) == (200, "2001")
            (entry,) = pbx.action_urls("8000")
            wrong = httpx.DigestAuth(str(entry.username), "not-the-password")
            async with httpx.AsyncClient() as http:
                refused = await http.post(
                    str(entry.url), json={"from": "1", "to": "8000"}, auth=wrong
                )
                static = await http.post(
                    public_url + "/hooks/staff", json={"from": "1", "to": "8000"}, auth=PORTAL
                )
            assert refused.status_code == 401
            assert static.status_code == 200, static.text
            await pbx.events_sent()
            await asyncio.wait_for(outcomes.wait(), 15)
            async with asyncio.timeout(15):  # the inbox writes it just after the handler raised
                while not admin.exists(f"ivrhooks:{APP_ID}:events:dead"):  # noqa: ASYNC110
                    await asyncio.sleep(0.05)
            shared = server.endpoint.guard.throttle._shared
            assert shared is not None
            await shared.drain()  # the successes and the failure have reached Redis
            degraded = server.runtime.store.degraded  # type: ignore[attr-defined]
            # While it runs: the registrar lease is given back when the app stops.
            keys = sorted(k.decode() for k in admin.scan_iter(count=1000))
    denied = admin.execute_command("ACL", "LOG")
    patterns = documented_patterns(APP_ID)
    print("keys written:", *keys, sep="\n  ")
    assert denied == [], f"the documented ACL refused: {denied}"
    assert not degraded, "every operation reached Redis"
    undocumented = [
        k for k in keys if not any(fnmatch.fnmatchcase(k, g) for g in patterns.values())
    ]
    assert undocumented == []
    seen = {
        doc for doc, glob in patterns.items() if any(fnmatch.fnmatchcase(k, glob) for k in keys)
    }
    # Every documented key was written here but the cache's (no cached value in this app), the
    # login budget's (a slot is held only by a refused login; this one succeeded and gave it
    # back at once: the ACL check above saw it taken), and the event inbox's retry queue and
    # count of dropped dead events (one try per event here, and no dead list overflow).
    assert set(patterns) - seen == {
        "ivrhooks:<app id>:cache:<key>",
        "ivrhooks:pbx-login:<PBX digest>:<n>",
        "ivrhooks:<app id>:events:retry",
        "ivrhooks:<app id>:events:dead:dropped",
    }, sorted(seen)
