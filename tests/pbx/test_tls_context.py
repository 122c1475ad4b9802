"""The HTTP clients ivrhooks makes load the CA bundle once per process, not once per client.

httpx loads the whole bundle for every client made with ``verify=True`` (tens of ms of CPU):
``PBXClient`` and each call the fake PBX places share one verifying context instead
(``ivrhooks.pbx.tls``); ``verify=False`` still verifies nothing.
"""

from __future__ import annotations

import ssl
from typing import Any

import pytest

from ivrhooks.fakepbx.dial import fire
from ivrhooks.pbx import PBXClient
from ivrhooks.pbx.tls import tls_context
from ivrhooks.schema.models import ActionUrl
from tests.ports import spare_port


@pytest.fixture
def bundle_loads(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every CA bundle load from now on, starting from no shared context yet."""
    loads: list[object] = []
    load = ssl.SSLContext.load_verify_locations

    def counted(self: ssl.SSLContext, *args: Any, **kwargs: Any) -> None:
        loads.append(args or kwargs)
        load(self, *args, **kwargs)

    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", counted)
    tls_context.cache_clear()
    return loads


async def test_pbx_clients_share_one_verifying_context(bundle_loads: list[object]) -> None:
    clients = [PBXClient("https://pbx.example/api", token="t") for _ in range(3)]
    clients.append(PBXClient("https://pbx.example/api", token="t", verify=False))  # none
    for client in clients:
        await client.aclose()
    assert len(bundle_loads) == 1
    assert tls_context().verify_mode == ssl.CERT_REQUIRED
    assert tls_context().check_hostname


async def test_each_call_the_fake_pbx_places_reuses_the_context(
    bundle_loads: list[object],
) -> None:
    # Nothing listens there: each call fails to connect, after its client was made.
    url = ActionUrl(id="1", url=f"http://127.0.0.1:{spare_port()}/hook", connection_timeout=1)
    results = [await fire(url, {"from": "101", "to": "8000"}) for _ in range(3)]
    assert [r.error is not None for r in results] == [True] * 3
    assert len(bundle_loads) == 1
