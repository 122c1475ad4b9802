"""``/metrics`` and ``/readyz`` answer only when asked for by this service's own name (issue 23,
finding 12): a web page that rebinds its own DNS name to 127.0.0.1 makes a developer's browser
ask from loopback, and only the ``Host`` it sends (the page's name) gives it away.

Over real HTTP on loopback, the ``Host`` written as a browser would write it.
"""

from __future__ import annotations

from collections.abc import Mapping

import httpx
import pytest

from ivrhooks import ActionRequest, IVRHooks, call
from ivrhooks.errors import ConfigurationError
from ivrhooks.testing import serve

ENV = {"IVRHOOKS_SECRET": "ops-hosts-secret-0123456789", "IVRHOOKS_REGISTER": "false"}


def app_with(env: Mapping[str, str] = {}) -> IVRHooks:
    app = IVRHooks(receptionists=["8000"], env={**ENV, **env})

    @app.dtmf("1")
    async def menu(req: ActionRequest) -> object:
        return call("100")

    return app


async def statuses(app: IVRHooks, host: str) -> dict[str, int]:
    async with serve(app) as url, httpx.AsyncClient(base_url=url) as client:
        port = url.rpartition(":")[2]
        headers = {"host": host.replace("PORT", port)}
        return {
            p: (await client.get(p, headers=headers)).status_code
            for p in ("/healthz", "/metrics", "/readyz")
        }


@pytest.mark.parametrize(
    ("env", "host", "expected"),
    [
        ({}, "rebound.example.com:PORT", 403),  # the attack: the page's own name
        ({}, "rebound.example.com", 403),
        ({}, "localhost.example.com:PORT", 403),
        ({}, "localhost:PORT", 200),
        ({}, "LOCALHOST.:PORT", 200),
        ({}, "dev.localhost:PORT", 200),
        ({}, "127.0.0.1:PORT", 200),
        ({}, "[::1]:PORT", 200),
        ({}, "10.1.2.3:PORT", 200),  # an IP literal: Prometheus by pod address
        ({"IVRHOOKS_PUBLIC_URL": "https://ivr.example.com/base"}, "ivr.example.com", 200),
        ({"IVRHOOKS_PUBLIC_URL": "https://ivr.example.com/base"}, "evil.example.com", 403),
        ({"IVRHOOKS_OPS_HOSTS": "ivrhooks.monitoring, other.internal"}, "ivrhooks.monitoring", 200),
        ({"IVRHOOKS_OPS_HOSTS": "ivrhooks.monitoring"}, "ivrhooks.monitoring.example.com", 403),
    ],
    ids=["rebound-name", "rebound-name-no-port", "localhost-prefix", "localhost", "localhost-dot",
         "dot-localhost", "ipv4-literal", "ipv6-literal", "pod-address", "public-url-host",
         "not-the-public-url-host", "ops-hosts", "ops-hosts-suffix"],
)  # fmt: skip
async def test_metrics_and_readyz_answer_only_this_services_names(
    env: dict[str, str], host: str, expected: int
) -> None:
    got = await statuses(app_with(env), host)
    assert got == {"/healthz": 200, "/metrics": expected, "/readyz": expected}


async def test_two_host_headers_are_refused() -> None:
    app = app_with()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        two = await client.get("/metrics", headers=[("host", "127.0.0.1"), ("host", "evil.com")])
    assert (two.status_code, two.json()) == (403, {"error": "forbidden"})


def test_a_bad_ops_host_names_the_variable() -> None:
    with pytest.raises(ConfigurationError, match="IVRHOOKS_OPS_HOSTS"):
        app_with({"IVRHOOKS_OPS_HOSTS": "https://metrics.internal:9090"}).configure()
