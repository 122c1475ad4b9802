"""Behind a trusted proxy, the client is whom the forwarding headers name, in every form proxies
write, and "unknown" when they name nobody: never the proxy itself (issue 23, finding 6: a
loopback proxy made every client local, so everyone read ``/metrics``).

Over real HTTP on loopback: the test client is the proxy (127.0.0.1, trusted), and writes the
headers a proxy would. uvicorn's own proxy-header rewrite is off, as under ``ivrhooks run``.
"""

from __future__ import annotations

import httpx
import pytest

from ivrhooks import ActionRequest, AuthConfig, IVRHooks, call
from ivrhooks.core.auth import derive_credentials
from ivrhooks.testing import serve

SECRET = "forwarded-clients-secret-0123"
CREDS = derive_credentials(SECRET, "menu")
CALL = {"from": "101", "to": "8000", "input": "1"}
OPS = ("/metrics", "/readyz")


def app_with(**auth: object) -> tuple[IVRHooks, list[str]]:
    app = IVRHooks(
        receptionists=["8000"],
        auth=AuthConfig(secret=SECRET, trusted_proxies=("127.0.0.1",), **auth),  # type: ignore[arg-type]
        env={"IVRHOOKS_REGISTER": "false"},
    )
    called: list[str] = []

    @app.dtmf("1")
    async def menu(req: ActionRequest) -> object:
        called.append(req.caller)
        return call("100")

    return app, called


REMOTE_FORMS = {
    "xff-ip-port": {"x-forwarded-for": "203.0.113.7:4711"},
    "xff-v6-brackets": {"x-forwarded-for": "[2001:db8::7]"},
    "xff-v6-brackets-port": {"x-forwarded-for": "[2001:db8::7]:4711"},
    "xff-unknown": {"x-forwarded-for": "unknown"},
    "xff-garbage": {"x-forwarded-for": "not an address"},
    "forwarded-only": {"forwarded": "for=203.0.113.7"},
    "forwarded-quoted-v6-port": {"forwarded": 'for="[2001:db8::7]:4711";proto=http'},
    "forwarded-obfuscated": {"forwarded": "for=_hidden"},
    "forwarded-unknown": {"forwarded": "for=unknown"},
    "x-real-ip-only": {"x-real-ip": "203.0.113.7"},
    "headers-disagree": {"x-forwarded-for": "203.0.113.7", "x-real-ip": "127.0.0.1"},
}


@pytest.mark.parametrize("headers", REMOTE_FORMS.values(), ids=REMOTE_FORMS.keys())
async def test_a_remote_or_unknown_client_behind_a_local_proxy_reads_no_metrics(
    headers: dict[str, str],
) -> None:
    app, _ = app_with()
    async with serve(app, proxy_headers=False) as url, httpx.AsyncClient(base_url=url) as proxy:
        got = {p: (await proxy.get(p, headers=headers)).status_code for p in OPS}
        body = (await proxy.get("/metrics", headers=headers)).text
        # The proxy's own requests, and a local client through it, still read them.
        own = (await proxy.get("/metrics")).status_code
        local = await proxy.get("/metrics", headers={"x-forwarded-for": "127.0.0.1:5555"})
        local_rfc = await proxy.get("/readyz", headers={"forwarded": 'for="127.0.0.1:5555"'})
    assert got == {"/metrics": 403, "/readyz": 403}
    assert "ivrhooks_" not in body
    assert (own, local.status_code, local_rfc.status_code) == (200, 200, 200)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"x-forwarded-for": "192.0.2.7:4711"}, 200),
        ({"forwarded": 'for="192.0.2.7:4711"'}, 200),
        ({"x-real-ip": "192.0.2.7"}, 200),
        ({"x-forwarded-for": "unknown"}, 403),
        ({"forwarded": "for=_hidden"}, 403),
        ({"x-forwarded-for": "192.0.2.7", "forwarded": "for=198.51.100.1"}, 403),
        ({}, 403),  # the proxy itself is not the PBX
    ],
    ids=["xff-ip-port", "forwarded-ip-port", "x-real-ip", "xff-unknown", "forwarded-obfuscated",
         "disagreeing", "no-header"],
)  # fmt: skip
async def test_the_pbx_allow_list_judges_the_forwarded_client(
    headers: dict[str, str], expected: int
) -> None:
    app, called = app_with(allow=("192.0.2.0/24",))
    auth = (CREDS.username, CREDS.password)
    async with serve(app, proxy_headers=False) as url, httpx.AsyncClient(base_url=url) as proxy:
        reply = await proxy.post("/hooks/menu", json=CALL, auth=auth, headers=headers)
    assert reply.status_code == expected
    assert called == (["101"] if expected == 200 else [])


async def test_unknown_clients_are_throttled_as_a_key_of_their_own() -> None:
    """Failures from clients the headers do not name count under "unknown": not under the
    proxy's address (every client behind it would share its lockout) nor anyone else's."""
    app, called = app_with()
    wrong = ("wrongname1", "wrongpass1")
    unknown = {"x-forwarded-for": "unknown"}
    async with serve(app, proxy_headers=False) as url, httpx.AsyncClient(base_url=url) as proxy:
        flood = [
            (await proxy.post("/hooks/menu", json=CALL, auth=wrong, headers=unknown)).status_code
            for _ in range(12)
        ]
        from_proxy = await proxy.post("/hooks/menu", json=CALL, auth=wrong)
        from_client = await proxy.post(
            "/hooks/menu", json=CALL, auth=wrong, headers={"x-forwarded-for": "203.0.113.7"}
        )
        right = await proxy.post(
            "/hooks/menu", json=CALL, auth=(CREDS.username, CREDS.password), headers=unknown
        )
    assert flood == [401] * 10 + [429] * 2
    assert (from_proxy.status_code, from_client.status_code) == (401, 401)
    assert right.status_code == 200  # derived credentials are answered however throttled
    assert called == ["101"]
