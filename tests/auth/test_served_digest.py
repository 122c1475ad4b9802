"""Digest through a whole app over real HTTP: ``username*`` and ``opaque`` as docs/security.md says.

Each request is written by hand from a real challenge (helpers' independent RFC 7616 client), so
exactly one thing differs from a request that succeeds.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from ivrhooks import ActionRequest, IVRHooks, RegistrationConfig, call
from ivrhooks.auth import derive_credentials
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
