"""Real clients over real HTTP on loopback: httpx and curl against the served endpoint."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from ivrhooks.core.auth import AuthGuard, Secrets, build_authenticator, derive_credentials
from ivrhooks.server.asgi import ASGIApp
from ivrhooks.testing import serve

from .helpers import SECRET, Handler, challenges, digest_fields, digest_header, protected

CURL = "/usr/bin/curl"
QUERY = {"from": "1001", "to": "8000", "from_name": "Jürgen Müller & Söhne + Co", "input": "1#"}
FIELDS = "from=1001&to=8000&input=1"
CREDS = derive_credentials(SECRET, "sales")


def app_for(scheme: str, handler: Handler, **kw: Any) -> ASGIApp:
    auth = build_authenticator(scheme, "sales", secrets=Secrets(SECRET), **kw)  # type: ignore[arg-type]
    return protected(handler, auth, AuthGuard())


async def curl(*args: str) -> tuple[int, bytes]:
    proc = await asyncio.create_subprocess_exec(
        CURL,
        "-sS",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode == 0, err
    return int(out), err


@pytest.mark.parametrize("algorithms", [("MD5",), ("MD5", "SHA-256")], ids=["md5", "sha-256"])
async def test_httpx_digest(algorithms: tuple[str, ...]) -> None:
    handler = Handler()
    async with serve(app_for("digest", handler, digest_algorithms=algorithms)) as url:
        auth = httpx.DigestAuth(CREDS.username, CREDS.password)
        # A new client per call: a fresh challenge each time.
        for _ in range(2):
            async with httpx.AsyncClient() as client:
                r = await client.get(f"{url}/ivr/8000", params=QUERY, auth=auth)
                assert r.status_code == 200
        # One reused client: httpx reuses the nonce and counts nc up (2, 3, ...).
        async with httpx.AsyncClient(auth=auth) as client:
            for _ in range(4):
                r = await client.get(f"{url}/ivr/8000", params=QUERY)
                assert r.status_code == 200
            body = {"from": "1001", "to": "8000", "input": "2"}
            r = await client.post(f"{url}/ivr/8000", json=body)
            assert r.status_code == 200
            bad = httpx.DigestAuth(CREDS.username, "wrongpassword1")
            assert (await client.get(f"{url}/ivr/8000", auth=bad)).status_code == 401
    assert handler.calls == 7


async def test_curl_digest() -> None:
    handler = Handler()
    async with serve(app_for("digest", handler)) as url:
        fields = "from=1001&to=8000&from_name=J%C3%BCrgen+M%C3%BCller%26S%C3%B6hne&input=1"
        target = f"{url}/ivr/8000?{fields}"
        user = f"{CREDS.username}:{CREDS.password}"
        assert (await curl("--digest", "-u", user, target))[0] == 200
        body = '{"from": "1001", "to": "8000", "input": "1"}'
        assert (await curl("--digest", "-u", user, "-d", body, f"{url}/ivr/8000"))[0] == 200
        assert (await curl("--digest", "-u", f"{CREDS.username}:wrongpass1", target))[0] == 401
    assert handler.calls == 2


async def test_basic_and_bearer_from_httpx_and_curl() -> None:
    handler = Handler()
    async with serve(app_for("basic", handler)) as url:
        async with httpx.AsyncClient() as client:
            r = await client.get(f"{url}/x", params=QUERY, auth=(CREDS.username, CREDS.password))
            assert r.status_code == 200
            assert (await client.get(f"{url}/x")).status_code == 401
        user = f"{CREDS.username}:{CREDS.password}"
        assert (await curl("--basic", "-u", user, f"{url}/x?{FIELDS}"))[0] == 200
    async with serve(app_for("bearer", handler)) as url:
        bearer = {"Authorization": f"Bearer {CREDS.token}"}
        async with httpx.AsyncClient() as client:
            assert (await client.get(f"{url}/x?{FIELDS}", headers=bearer)).status_code == 200
            r = await client.get(f"{url}/x", params={**QUERY, "access_token": CREDS.token})
            assert r.status_code == 401
        bearer_header = f"Authorization: Bearer {CREDS.token}"
        assert (await curl("-H", bearer_header, f"{url}/x?{FIELDS}"))[0] == 200
    assert handler.calls == 4


async def test_two_identical_digest_requests_at_once_one_succeeds() -> None:
    handler = Handler()
    async with serve(app_for("digest", handler)) as url, httpx.AsyncClient() as client:
        first = await client.get(f"{url}/ivr/8000?{FIELDS}")
        ch = challenges(list(first.headers.raw))[0]
        fields = digest_fields(
            username=CREDS.username,
            password=CREDS.password,
            nonce=ch["nonce"],
            uri=f"/ivr/8000?{FIELDS}",
            opaque=ch["opaque"],
        )
        headers = {"Authorization": digest_header(fields).decode()}
        a, b = await asyncio.gather(
            client.get(f"{url}/ivr/8000?{FIELDS}", headers=headers),
            client.get(f"{url}/ivr/8000?{FIELDS}", headers=headers),
        )
    assert sorted([a.status_code, b.status_code]) == [200, 401]
    assert handler.calls == 1


async def test_root_path_keeps_the_digest_uri_matching() -> None:
    # Behind a proxy that strips /hooks, uvicorn --root-path /hooks restores the raw path.
    handler = Handler()
    async with (
        serve(app_for("digest", handler), root_path="/hooks") as url,
        httpx.AsyncClient() as client,
    ):
        ch = challenges(list((await client.get(f"{url}/ivr/8000")).headers.raw))[0]
        fields = digest_fields(
            username=CREDS.username,
            password=CREDS.password,
            nonce=ch["nonce"],
            uri=f"/hooks/ivr/8000?{FIELDS}",
            opaque=ch["opaque"],
        )
        r = await client.get(
            f"{url}/ivr/8000?{FIELDS}", headers={"Authorization": digest_header(fields).decode()}
        )
    assert r.status_code == 200
