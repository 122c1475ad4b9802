"""Digest through a whole app over real HTTP: ``username*`` and ``opaque`` as docs/security.md
says, and what a normal Digest call leaves in the metrics and the log.

Each request is written by hand from a real challenge (helpers' independent RFC 7616 client), so
exactly one thing differs from a request that succeeds.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from ivrhooks import ActionRequest, IVRHooks, RegistrationConfig, call
from ivrhooks.core.auth import derive_credentials
from ivrhooks.core.auth.credentials import derive_key
from ivrhooks.core.auth.nonce import NonceCodec
from ivrhooks.testing import serve

from .helpers import challenges, digest_fields

SECRET = "served-digest-secret-0123"
CREDS = derive_credentials(SECRET, "menu")
TARGET = "/hooks/menu?from=101&to=8000&input=1"


def digest_app() -> tuple[IVRHooks, list[str]]:
    app = IVRHooks(
        receptionists=["8000"],
        secret=SECRET,
        auth="digest",
        env=False,
        registration=RegistrationConfig(method="GET"),
    )
    called: list[str] = []

    @app.dtmf("1")
    async def menu(req: ActionRequest) -> object:
        called.append("menu")
        return call("100")

    return app, called


@pytest.fixture
async def served() -> AsyncIterator[tuple[httpx.AsyncClient, list[str]]]:
    app, called = digest_app()
    async with serve(app) as url, httpx.AsyncClient(base_url=url) as client:
        yield client, called


def header(fields: dict[str, str], extra: str = "", drop: str = "") -> str:
    parts = [
        f"{k}={v}" if k in ("algorithm", "qop", "nc") else f'{k}="{v}"'
        for k, v in fields.items()
        if k != drop
    ]
    return "Digest " + ", ".join(parts) + extra


async def reply(client: httpx.AsyncClient, **kw: str) -> dict[str, str]:
    challenge = challenges(list((await client.get(TARGET)).headers.raw))[0]
    base = {
        "username": CREDS.username,
        "password": CREDS.password,
        "nonce": challenge["nonce"],
        "uri": TARGET,
        "opaque": challenge["opaque"],
    }
    return digest_fields(**{**base, **kw})


@pytest.mark.parametrize(
    ("extra", "drop", "status"),
    [
        ("", "", 200),
        (f", username*=UTF-8''{CREDS.username}", "", 401),
        (", username*=UTF-8''someoneelse", "", 401),
        ("", "opaque", 200),
    ],
    ids=["as-sent", "username-and-username-star", "username-star-other-user", "no-opaque"],
)
async def test_username_star_is_refused_and_opaque_may_be_left_out(
    served: tuple[httpx.AsyncClient, list[str]], extra: str, drop: str, status: int
) -> None:
    client, called = served
    fields = await reply(client)
    r = await client.get(TARGET, headers={"authorization": header(fields, extra, drop)})
    assert r.status_code == status
    assert called == (["menu"] if status == 200 else [])


async def test_a_wrong_opaque_is_refused(served: tuple[httpx.AsyncClient, list[str]]) -> None:
    client, called = served
    fields = await reply(client, opaque="A" * 24)
    r = await client.get(TARGET, headers={"authorization": header(fields)})
    assert r.status_code == 401
    assert called == []


async def scrape(client: httpx.AsyncClient, name: str) -> dict[str, float]:
    text = (await client.get("/metrics")).text
    return {
        s.labels["reason"]: s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == name
    }


async def test_a_normal_digest_call_is_challenges_not_failures(
    served: tuple[httpx.AsyncClient, list[str]], caplog: pytest.LogCaptureFixture
) -> None:
    client, called = served
    with caplog.at_level(logging.INFO, logger="ivrhooks.auth"):
        for _ in range(3):  # each a challenge round trip, as the PBX makes them
            auth = httpx.DigestAuth(CREDS.username, CREDS.password)
            assert (await client.get(TARGET, auth=auth)).status_code == 200
        # A correct response on an expired nonce: stale=true, a retry, then success.
        old = NonceCodec("ivrhooks", "menu", "MD5").make(
            derive_key(SECRET, "digest-nonce"), time.time() - 600
        )
        stale = await client.get(
            TARGET, headers={"authorization": header(await reply(client, nonce=old))}
        )
        assert stale.status_code == 401 and "stale=true" in stale.headers["www-authenticate"]
    assert called == ["menu"] * 3
    failures = await scrape(client, "ivrhooks_auth_failures_total")
    assert set(failures.values()) == {0.0}, failures
    challenges = await scrape(client, "ivrhooks_auth_challenges_total")
    assert challenges == {"missing": 4.0, "stale": 1.0}
    assert not [r for r in caplog.records if r.name == "ivrhooks.auth"], "no INFO+ line at all"


async def test_metrics_do_not_tell_an_unknown_user_from_a_wrong_password(
    served: tuple[httpx.AsyncClient, list[str]], caplog: pytest.LogCaptureFixture
) -> None:
    client, called = served
    with caplog.at_level(logging.WARNING, logger="ivrhooks.auth"):
        for fields in (
            await reply(client, password="wrongpass1"),
            await reply(client, username="nobody01"),
        ):
            r = await client.get(TARGET, headers={"authorization": header(fields)})
            assert r.status_code == 401
    failures = await scrape(client, "ivrhooks_auth_failures_total")
    assert failures == {"bad_credentials": 2.0}
    # The operators' log keeps the precise reason.
    assert [getattr(r, "reason", None) for r in caplog.records] == [
        "bad_credentials",
        "unknown_user",
    ]
    assert called == []
