"""``exclude_list`` (v22.3) and ``enable_night_mode`` (v22.5) postdate PortSIP's published schema:
the client sends them only when they were set, so a PBX that predates them never sees them
(docs/rest-api.md, quirk ``newer-fields``). Checked on the bytes the fake PBX received over real
HTTP, for the keyword and the model forms of create and update, and for set values that are
falsy (``False``, ``""``), which "only when set" still sends."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ivrhooks.schema.models import IvrCreate, IvrUpdate
from ivrhooks.testing import FakePBX
from tests.conformance.capture import Exchange
from tests.conformance.conftest import Wire

NEWER = {"exclude_list", "enable_night_mode"}


def _received(wire: Wire, method: str, path: str) -> list[dict[str, Any]]:
    """The JSON bodies of the requests the fake PBX received at ``path``."""
    bodies = []
    for exchange in wire.fake_side.exchanges:
        if (exchange.method, exchange.path) == (method, path):
            assert exchange.headers["content-type"].startswith("application/json"), exchange
            bodies.append(_body(exchange))
    return bodies


def _body(exchange: Exchange) -> dict[str, Any]:
    data = json.loads(exchange.body)
    assert isinstance(data, dict), exchange
    return data


@pytest.mark.parametrize("form", ["keywords", "model"])
async def test_left_unset_the_newer_fields_are_not_sent(
    wire: Wire, fake: FakePBX, form: str
) -> None:
    async with wire.client(fake) as pbx:
        if form == "keywords":
            ivr_id = await pbx.ivrs.create(name="Main", extension_number="8000", pin="582046")
            await pbx.ivrs.update(ivr_id, name="Main menu", enable_pin=True)
        else:
            ivr_id = await pbx.ivrs.create(
                IvrCreate(name="Main", extension_number="8000", pin="582046")
            )
            await pbx.ivrs.update(ivr_id, IvrUpdate(name="Main menu", enable_pin=True))
    [created] = _received(wire, "POST", "/api/ivrs")
    [updated] = _received(wire, "POST", f"/api/ivrs/{ivr_id}")
    assert created == {"name": "Main", "extension_number": "8000", "pin": "582046"}
    assert updated == {"name": "Main menu", "enable_pin": True}
    assert not NEWER & (created.keys() | updated.keys())


@pytest.mark.parametrize(
    "newer",
    [
        {"exclude_list": "101,102", "enable_night_mode": True},
        {"exclude_list": "", "enable_night_mode": False},  # set, though falsy: still sent
    ],
    ids=["values", "falsy-values"],
)
async def test_set_the_newer_fields_are_sent_as_given(
    wire: Wire, fake: FakePBX, newer: dict[str, Any]
) -> None:
    async with wire.client(fake) as pbx:
        ivr_id = await pbx.ivrs.create(name="Main", extension_number="8000", pin="582046", **newer)
        await pbx.ivrs.update(ivr_id, IvrUpdate(**newer))
        stored = await pbx.ivrs.get(ivr_id)
    [created] = _received(wire, "POST", "/api/ivrs")
    [updated] = _received(wire, "POST", f"/api/ivrs/{ivr_id}")
    assert created == {"name": "Main", "extension_number": "8000", "pin": "582046", **newer}
    assert updated == newer
    # Stored; a blank is read back as null (PortSIP REST "About": blank fields are null).
    expected = {k: None if v == "" else v for k, v in newer.items()}
    assert {k: getattr(stored, k) for k in NEWER} == expected
