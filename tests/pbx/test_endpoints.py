"""Every one of the 17 seed endpoints, through PBXClient, against FakePBX over loopback HTTP."""

from __future__ import annotations

import pytest

from ivrhooks.pbx import PBXClient, PBXNotFoundError
from ivrhooks.schema.models import (
    ActionUrlCreate,
    AuthMode,
    IvrServerType,
    OnlineStatus,
)
from ivrhooks.testing import FakePBX


async def test_ivr_servers_all_six_endpoints(pbx: PBXClient, fake: FakePBX) -> None:
    internal = [s async for s in pbx.ivr_servers.list()]
    assert [s.type for s in internal] == [IvrServerType.INTERNAL]

    sid = await pbx.ivr_servers.create(name="Media 2", ipv4="10.0.0.9")
    server = await pbx.ivr_servers.get(sid)
    assert (server.name, server.ipv4, server.enabled) == ("Media 2", "10.0.0.9", True)
    assert server.type is IvrServerType.EXTERNAL

    await pbx.ivr_servers.update(sid, enabled=False)
    assert (await pbx.ivr_servers.get(sid)).enabled is False
    assert (await pbx.ivr_servers.status(sid)).status is OnlineStatus.OFFLINE

    names = [s.name async for s in pbx.ivr_servers.list(orderby="name desc")]
    assert names == ["Media 2", "Internal"]

    await pbx.ivr_servers.destroy(sid)
    with pytest.raises(PBXNotFoundError):
        await pbx.ivr_servers.get(sid)
    assert fake.counters.creates == 1
    assert fake.counters.updates == 1
    assert fake.counters.destroys == 1


async def test_ivrs_all_six_endpoints(pbx: PBXClient, fake: FakePBX) -> None:
    ivr_id = await pbx.ivrs.create(name="Main", extension_number="8000", pin="975310")
    summaries = [s async for s in pbx.ivrs.list()]
    assert [(s.id, s.name, s.extension_number) for s in summaries] == [(ivr_id, "Main", "8000")]

    ivr = await pbx.ivrs.get(ivr_id)
    assert (ivr.name, ivr.extension_number, ivr.pin, ivr.dtmf_interval) == (
        "Main",
        "8000",
        "975310",
        2,
    )

    await pbx.ivrs.update(ivr_id, name="Front desk", dtmf_interval=3)
    ivr = await pbx.ivrs.get(ivr_id)
    assert (ivr.name, ivr.dtmf_interval, ivr.extension_number) == ("Front desk", 3, "8000")
    assert (await pbx.ivrs.status(ivr_id)).status is OnlineStatus.ONLINE

    await pbx.ivrs.destroy(ivr_id)
    assert [s async for s in pbx.ivrs.list()] == []
    assert fake.ivrs() == []


async def test_action_urls_all_five_endpoints(pbx: PBXClient, fake: FakePBX) -> None:
    ivr_id = fake.add_ivr("8000", "Main")
    assert await pbx.action_urls.list(ivr_id) == []

    url_id = await pbx.action_urls.create(
        ivr_id,
        name="sales",
        type="DTMF",
        method="POST",
        dtmf_mask="1;3000-4000",
        url="http://127.0.0.1:9/hook",
    )
    url = await pbx.action_urls.get(ivr_id, url_id)
    # The real schema defaults enabled to false: whoever registers must send true.
    assert (url.name, url.enabled, url.auth, url.request_timeout) == (
        "sales",
        False,
        AuthMode.DISABLE,
        2,
    )

    full = ActionUrlCreate(
        name="sales",
        enabled=True,
        type="DTMF",
        method="POST",
        dtmf_mask="1;3000-4000",
        url="http://127.0.0.1:9/hook",
        auth="BASIC",
        username="pbxuser",
        password="secret123",
    )
    await pbx.action_urls.update(ivr_id, url_id, full)  # a create model works for update
    [listed] = await pbx.action_urls.list(ivr_id)
    assert (listed.id, listed.enabled, listed.auth, listed.username) == (
        url_id,
        True,
        AuthMode.BASIC,
        "pbxuser",
    )
    assert fake.action_urls("8000") == [listed]

    await pbx.action_urls.destroy(ivr_id, url_id)
    assert await pbx.action_urls.list(ivr_id) == []


async def test_model_instance_works_for_create_and_update(pbx: PBXClient, fake: FakePBX) -> None:
    ivr_id = fake.add_ivr("8000", "Main")
    model = ActionUrlCreate(
        name="vip", enabled=True, type="CALLER", caller_mask="101", url="http://127.0.0.1:9/vip"
    )
    url_id = await pbx.action_urls.create(ivr_id, model)
    assert (await pbx.action_urls.get(ivr_id, url_id)).caller_mask == "101"
    with pytest.raises(TypeError, match="not both"):
        await pbx.action_urls.create(ivr_id, model, name="x")


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda p: p.ivr_servers.get("nope"), id="ivr_servers.get"),
        pytest.param(lambda p: p.ivr_servers.update("nope", enabled=True), id="ivr_servers.update"),
        pytest.param(lambda p: p.ivr_servers.status("nope"), id="ivr_servers.status"),
        pytest.param(lambda p: p.ivr_servers.destroy("nope"), id="ivr_servers.destroy"),
        pytest.param(lambda p: p.ivrs.get("nope"), id="ivrs.get"),
        pytest.param(lambda p: p.ivrs.update("nope", name="x"), id="ivrs.update"),
        pytest.param(lambda p: p.ivrs.status("nope"), id="ivrs.status"),
        pytest.param(lambda p: p.ivrs.destroy("nope"), id="ivrs.destroy"),
        pytest.param(lambda p: p.action_urls.list("nope"), id="action_urls.list"),
        pytest.param(lambda p: p.action_urls.create("nope", name="x"), id="action_urls.create"),
        pytest.param(lambda p: p.action_urls.get("nope", "x"), id="action_urls.get"),
        pytest.param(
            lambda p: p.action_urls.update("nope", "x", name="x"), id="action_urls.update"
        ),
        pytest.param(lambda p: p.action_urls.destroy("nope", "x"), id="action_urls.destroy"),
    ],
)
async def test_unknown_ids_are_404(pbx: PBXClient, call: object) -> None:
    with pytest.raises(PBXNotFoundError) as info:
        await call(pbx)  # type: ignore[operator]
    assert info.value.status == 404
    assert info.value.method in ("GET", "POST")
    assert "nope" in info.value.path


async def test_unknown_action_url_of_known_ivr_is_404(pbx: PBXClient, fake: FakePBX) -> None:
    ivr_id = fake.add_ivr("8000", "Main")
    with pytest.raises(PBXNotFoundError, match="url_id"):
        await pbx.action_urls.get(ivr_id, "missing")


async def test_ids_are_escaped_into_the_path(pbx: PBXClient) -> None:
    with pytest.raises(PBXNotFoundError) as info:
        await pbx.ivrs.get("a/b?c")
    assert info.value.path == "ivrs/a%2Fb%3Fc"
