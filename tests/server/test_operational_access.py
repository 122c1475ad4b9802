"""``/metrics`` and ``/readyz`` answer ``AuthConfig.ops_allow`` only (loopback by default);
``/healthz`` answers anyone. Over real HTTP from a second loopback address, and in process for
sources that loopback cannot produce."""

from __future__ import annotations

from collections.abc import Mapping

import httpx
import pytest

from ivrhooks import ActionRequest, AuthConfig, IVRHooks, call
from ivrhooks.testing import serve

OPS = ("/metrics", "/readyz")


def app_with(auth: AuthConfig | None = None, env: Mapping[str, str] | bool = False) -> IVRHooks:
    auth = auth or AuthConfig(secret="operational-access-0123")
    app = IVRHooks(receptionists=["8000"], auth=auth, env=env)

    @app.dtmf("1")
    async def menu(req: ActionRequest) -> object:
        return call("100")

    return app


async def statuses(client: httpx.AsyncClient, **kw: object) -> dict[str, int]:
    return {p: (await client.get(p, **kw)).status_code for p in ("/healthz", *OPS)}  # type: ignore[arg-type]


async def test_over_http_only_the_listed_sources_read_metrics_and_readyz() -> None:
    app = app_with(AuthConfig(secret="operational-access-0123", ops_allow=("127.0.0.1/32",)))
    async with serve(app) as url:
        async with httpx.AsyncClient(base_url=url) as local:
            listed = await statuses(local)
        elsewhere = httpx.AsyncHTTPTransport(local_address="127.0.0.2")
        async with httpx.AsyncClient(base_url=url, transport=elsewhere) as other:
            unlisted = await statuses(other)
            body = (await other.get("/metrics")).text
    assert listed == {"/healthz": 200, "/metrics": 200, "/readyz": 200}
    assert unlisted == {"/healthz": 200, "/metrics": 403, "/readyz": 403}
    assert "ivrhooks_" not in body


def asgi_client(app: IVRHooks, client: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(client, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://localhost")


@pytest.mark.parametrize(
    ("env", "client", "expected"),
    [
        ({}, "203.0.113.7", 403),
        ({}, "::1", 200),
        # The finding: with the PBX allow-list set, /metrics still answered every address.
        ({"IVRHOOKS_ALLOW": "192.0.2.0/24"}, "198.51.100.1", 403),
        ({"IVRHOOKS_ALLOW": "192.0.2.0/24"}, "192.0.2.10", 403),  # the PBX reads no metrics
        ({"IVRHOOKS_OPS_ALLOW": "10.1.0.0/16"}, "10.1.2.3", 200),  # e.g. Prometheus
        ({"IVRHOOKS_OPS_ALLOW": "10.1.0.0/16"}, "127.0.0.1", 403),
    ],
    ids=["default-remote", "default-ipv6-loopback", "allow-set-remote", "allow-set-pbx",
         "ops-allow-listed", "ops-allow-replaces-loopback"],
)  # fmt: skip
async def test_who_reads_metrics_and_readyz(
    env: dict[str, str], client: str, expected: int
) -> None:
    env = {"IVRHOOKS_SECRET": "operational-access-0123", "IVRHOOKS_REGISTER": "false", **env}
    app = app_with(env=env)
    async with asgi_client(app, client) as c:
        got = await statuses(c)
    assert got == {"/healthz": 200, "/metrics": expected, "/readyz": expected}


@pytest.mark.parametrize(
    ("trusted", "headers", "expected"),
    [
        ((), {"x-forwarded-for": "203.0.113.7"}, 403),  # a proxy nobody declared
        ((), {"forwarded": "for=203.0.113.7"}, 403),
        ((), {"x-real-ip": "127.0.0.1"}, 403),
        (("127.0.0.1",), {"x-forwarded-for": "203.0.113.7"}, 403),  # declared: its client
        (("127.0.0.1",), {"x-forwarded-for": "127.0.0.1"}, 200),
        (("127.0.0.1",), {}, 200),
    ],
    ids=["undeclared-xff", "undeclared-forwarded", "undeclared-x-real-ip", "trusted-remote",
         "trusted-local", "trusted-no-header"],
)  # fmt: skip
async def test_a_local_proxy_does_not_make_every_client_local(
    trusted: tuple[str, ...], headers: dict[str, str], expected: int
) -> None:
    app = app_with(AuthConfig(secret="operational-access-0123", trusted_proxies=trusted))
    async with asgi_client(app, "127.0.0.1") as c:
        got = await statuses(c, headers=headers)
    assert got == {"/healthz": 200, "/metrics": expected, "/readyz": expected}
