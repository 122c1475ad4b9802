"""Every request the client sends and every response the fake PBX returns, over real HTTP,
checked against PortSIP's published OpenAPI document (``portsip-openapi-ivr.json``).

One scenario per login generation drives all 17 Virtual Receptionist endpoints through
``PBXClient`` (plus a registration pass, list queries, paging, errors, a refresh and a re-login)
and then checks both recordings: the client's transport and the fake's ASGI middleware.
"""

from __future__ import annotations

import pytest

from ivrhooks.pbx import PBXClient, PBXNotFoundError, PBXValidationError
from ivrhooks.pbx.generations import Generation
from ivrhooks.registration import desired_state, reconcile
from ivrhooks.testing import FakePBX, serve
from tests.conformance.capture import RecordingASGI, RecordingTransport
from tests.conformance.spec import Spec
from tests.registration.helpers import add_menu, new_app

RESOURCE_OPERATIONS = {
    "listVrServers",
    "createVrServer",
    "showIvrServer",
    "updateVrServer",
    "getVrServerStatus",
    "deleteVrServer",
    "listVrs",
    "createVr",
    "getIvr",
    "updateVr",
    "getVrStatus",
    "deleteVrs",
    "listActionUrls",
    "createActionUrl",
    "showActionUrl",
    "updateActionUrl",
    "deleteActionUrl",
}
LOGIN_OPERATIONS = {
    Generation.SIGN_IN: {"signInWithCredentials", "refreshToken", "x-getAuthUser"},
    Generation.OAUTH: {"x-oauthToken"},
    Generation.LOGIN: {"login", "getLoginStatus"},
}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


RULES = {
    "timeout_forward_rule": {"timeout": 20, "repeat_times": 2, "action": "REPEAT"},
    "failure_forward_rule": {"action": "FORWARD_TO_NUMBER", "number": "101"},
    "night_mode_forward_rule": {"action": "FORWARD_TO_VOICEMAIL", "number": "101"},
    "custom_forward_rules": [
        {
            "user_input": "9",
            "office_hours": {
                "mode": "CUSTOM",
                "monday": {"enabled": True, "ranges": [{"from": "09:00", "to": "17:00"}]},
                "sunday": {"enabled": False, "ranges": []},
            },
            "office_hours_forward_rule": {"action": "FORWARD_TO_NUMBER", "number": "200"},
            "non_office_hours_forward_rule": {"action": "DISA"},
            "holidays": ["NzAwNTUxOTA5NzczMTQ4MTYw"],
            "holiday_forward_rule": {"action": "HANGUP"},
        }
    ],
    "outbound_caller_ids": [{"provider_id": "NzAw", "caller_id": "4420", "description": "x"}],
}


async def _scenario(pbx: PBXClient, fake: FakePBX, clock: Clock) -> None:
    # --- IVR servers: all six endpoints, a list query, an unknown id ------------------------
    server_id = await pbx.ivr_servers.create(name="media-2", ipv4="10.0.0.9", enabled=True)
    assert (await pbx.ivr_servers.get(server_id)).name == "media-2"
    await pbx.ivr_servers.update(server_id, enabled=False)
    assert (await pbx.ivr_servers.status(server_id)).status is not None
    names = [s.name async for s in pbx.ivr_servers.list(orderby="name desc", search="media")]
    assert names == ["media-2"]
    await pbx.ivr_servers.destroy(server_id)
    with pytest.raises(PBXNotFoundError):
        await pbx.ivr_servers.destroy(server_id)  # a 404 the document forgot (errors-any-4xx)

    # --- receptionists: create with every rule, paging, filters, update, status -------------
    main_id = await pbx.ivrs.create(name="Main", extension_number="8000", pin="582046", **RULES)
    for ext in ("8001", "8002"):
        await pbx.ivrs.create(name=f"R{ext}", extension_number=ext, pin="9753108642")
    # page_size 1: skip 0, 1, 2 (0-based, the schema's reading: quirk skip-1-based)
    paged = [s.extension_number async for s in pbx.ivrs.list(page_size=1, orderby="name asc")]
    assert paged == ["8000", "8001", "8002"]
    ge = [s.extension_number async for s in pbx.ivrs.list(filter="extension_number ge '8001'")]
    assert ge == ["8001", "8002"]
    ivr = await pbx.ivrs.get(main_id)
    assert ivr.custom_forward_rules[0].holidays[0].id == "NzAwNTUxOTA5NzczMTQ4MTYw"
    await pbx.ivrs.update(main_id, name="Main menu", enable_night_mode=False, exclude_list="101")
    assert (await pbx.ivrs.status(main_id)).status is not None
    with pytest.raises(PBXValidationError):
        await pbx.ivrs.create(name="Again", extension_number="8000", pin="582046")

    # --- action URLs: all five endpoints, a rejection only the PBX can make -----------------
    url_id = await pbx.action_urls.create(
        main_id,
        name="menu",
        enabled=True,
        type="DTMF",
        method="POST",
        dtmf_mask="1;2",
        url="http://127.0.0.1:51234/hooks/menu",  # the URL the published pattern refuses
        auth="BASIC",
        username="pbxhook1",
        password="s3cretpass",
        connection_timeout=0,
        request_timeout=2,
    )
    await pbx.action_urls.update(main_id, url_id, dtmf_mask="1;2;3", headers="X-A:1&X-B:2")
    assert (await pbx.action_urls.get(main_id, url_id)).dtmf_mask == "1;2;3"
    assert [u.id for u in await pbx.action_urls.list(main_id)] == [url_id]
    with pytest.raises(PBXValidationError):
        await pbx.action_urls.create(main_id, name="bad", dtmf_mask="1-", url="http://h/x")
    await pbx.action_urls.destroy(main_id, url_id)
    with pytest.raises(PBXNotFoundError):
        await pbx.action_urls.get(main_id, url_id)

    # --- registration's own traffic: a fresh pass, then one that only reads ----------------
    app = new_app(None, None, public_url="https://ivr.example.com", receptionists=["8001"])
    add_menu(app)
    manifest = app.manifest()
    state = desired_state(manifest)
    assert (await reconcile(pbx, state, app_id=manifest.app_id)).applied.created == 3
    assert (await reconcile(pbx, state, app_id=manifest.app_id)).applied.created == 0

    # --- tokens: a refresh (or re-login) near expiry, and a re-login after a 401 ------------
    clock.now += 3600 - 30
    await pbx.ivrs.status(main_id)
    fake.expire_tokens()
    await pbx.ivrs.status(main_id)
    await pbx.account()

    # --- cleanup through the API ------------------------------------------------------------
    for ext_id in [main_id]:
        await pbx.ivrs.destroy(ext_id)
    with pytest.raises(PBXNotFoundError):
        await pbx.ivrs.destroy(main_id)  # /ivrs/{id}/destroy declares no 404 (errors-any-4xx)


@pytest.mark.parametrize("generation", list(Generation), ids=lambda g: g.key)
async def test_every_exchange_conforms_to_the_published_document(
    spec: Spec, generation: Generation
) -> None:
    clock = Clock()
    fake = FakePBX(login_generations=[generation], clock=clock)
    fake_side = RecordingASGI(fake.app)
    client_side = RecordingTransport()
    async with (
        serve(fake_side) as base,
        PBXClient(
            base + "/api",
            username=fake.username,
            password=fake.password,
            transport=client_side,
            clock=clock,
        ) as pbx,
    ):
        await _scenario(pbx, fake, clock)
    exchanges = client_side.exchanges + fake_side.exchanges
    assert len(client_side.exchanges) == len(fake_side.exchanges) > 40
    problems = [problem for e in exchanges for problem in spec.violations(e)]
    assert problems == []
    covered = {op.id for e in exchanges if (op := spec.find(e.method, e.path)) is not None}
    assert RESOURCE_OPERATIONS | LOGIN_OPERATIONS[generation] <= covered
    # The statuses the scenario meant to see, each checked above.
    statuses = {e.status for e in fake_side.exchanges}
    assert {200, 201, 204, 401, 404, 422} <= statuses
