"""Reads survive what a real PBX returns: nulls for blank fields, and bodies that do not read.

PortSIP REST "About" (Data Format): "Blank fields are explicitly included as null values", yet
no response schema allows null. A null ``enabled`` or ``auth`` must read as the schema's
default (false, DISABLE), not break ``list``/``get`` and with them registration.
"""

from __future__ import annotations

from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from ivrhooks.core.masks import parse_mask
from ivrhooks.errors import IVRHooksError, PBXResponseError
from ivrhooks.pbx import PBXClient
from ivrhooks.registration.desired import DesiredUrl
from ivrhooks.registration.owner import entry_name
from ivrhooks.registration.plan import plan_receptionist
from ivrhooks.schema.models import ActionUrlCreate, ActionUrlType, AuthMode
from ivrhooks.testing import FakePBX, serve

ALL_NULL_URL: dict[str, Any] = {
    "name": None,
    "enabled": None,
    "type": None,
    "method": None,
    "headers": None,
    "caller_mask": None,
    "dtmf_mask": None,
    "connection_timeout": None,
    "request_timeout": None,
    "url": None,
    "auth": None,
    "username": None,
    "password": None,
    "token": None,
}


def _put_url(fake: FakePBX, ivr_id: str, url_id: str, **fields: Any) -> None:
    # Straight into the store: what a real PBX may hold, whatever the fake would accept.
    fake.store.put("action_url", {"id": url_id, **ALL_NULL_URL, **fields}, parent=ivr_id)


@pytest.mark.parametrize("read", ["list", "get"])
async def test_null_enabled_and_auth_read_as_the_schema_defaults(
    pbx: PBXClient, fake: FakePBX, read: str
) -> None:
    ivr_id = fake.add_ivr("8000", "Main")
    _put_url(fake, ivr_id, "u1", name="crm", dtmf_mask="7")
    if read == "list":
        [url] = await pbx.action_urls.list(ivr_id)
    else:
        url = await pbx.action_urls.get(ivr_id, "u1")
    assert (url.id, url.name, url.dtmf_mask) == ("u1", "crm", "7")
    assert url.enabled is False  # OpenAPI: enabled defaults to false
    assert url.auth is AuthMode.DISABLE  # OpenAPI: auth defaults to DISABLE
    assert url.username is None and url.connection_timeout is None


async def test_a_receptionist_with_null_fields_reads(pbx: PBXClient, fake: FakePBX) -> None:
    ivr_id = fake.add_ivr("8000", "Main")
    row = fake.store.ivrs[ivr_id]
    nulls = {
        "custom_forward_rules": None,
        "outbound_caller_ids": None,
        "timeout_forward_rule": None,
        "enable_pin": None,
        "dtmf_interval": None,
    }
    fake.store.put("ivr", {**row, **nulls})
    ivr = await pbx.ivrs.get(ivr_id)
    assert (ivr.custom_forward_rules, ivr.outbound_caller_ids) == ([], [])
    assert ivr.timeout_forward_rule is None and ivr.dtmf_interval is None
    [summary] = [s async for s in pbx.ivrs.list()]
    assert summary.extension_number == "8000"


async def test_registration_plans_over_null_reads(pbx: PBXClient, fake: FakePBX) -> None:
    # A managed entry the PBX returns with blanks as nulls: planned as an update, no crash.
    ivr_id = fake.add_ivr("8000", "Main")
    name = entry_name("sales", 1, "app1")
    _put_url(fake, ivr_id, "u1", name=name, dtmf_mask="1", type="DTMF")
    existing = await pbx.action_urls.list(ivr_id)
    body = ActionUrlCreate(
        name=name,
        enabled=True,
        type=ActionUrlType.DTMF,
        dtmf_mask="1",
        url="https://ivr.example.com/hooks/sales",
        auth=AuthMode.DISABLE,
    )
    desired = {body.name or "": DesiredUrl("sales", parse_mask("1", "DTMF"), body)}
    plan = plan_receptionist("8000", ivr_id, desired, existing, app_id="app1")
    [update] = plan.updates
    # A null auth is DISABLE (no drift); a null enabled is false, so it is switched on.
    assert set(update.changed) == {"enabled", "url"}


def _answering(body: Any, *, text: str | None = None) -> Starlette:
    async def sign_in(request: Request) -> Response:
        return JSONResponse({"access_token": "t", "expires_in": 3600})

    async def anything(request: Request) -> Response:
        if text is not None:
            return PlainTextResponse(text)
        return JSONResponse(body)

    return Starlette(
        routes=[
            Route("/api/auth/sign_in", sign_in, methods=["POST"]),
            Route("/api/{path:path}", anything, methods=["GET", "POST"]),
        ]
    )


@pytest.mark.parametrize(
    ("body", "text", "call", "field"),
    [
        pytest.param({"items": [{"name": "no id"}]}, None, "urls", "items.0.id", id="item-no-id"),
        pytest.param({"items": [{"id": "u", "type": "SMS"}]}, None, "urls", "type", id="enum"),
        pytest.param({"count": "many", "items": []}, None, "ivrs", "count", id="count"),
        pytest.param({}, None, "create", "id", id="created-without-id"),
        pytest.param(None, "<html>", "get", "not JSON", id="not-json"),
    ],
)
async def test_a_body_that_does_not_read_is_a_pbx_response_error(
    body: Any, text: str | None, call: str, field: str
) -> None:
    async with (
        serve(_answering(body, text=text)) as url,
        PBXClient(url + "/api", username="admin", password="fakepbx") as pbx,
    ):
        with pytest.raises(PBXResponseError) as info:
            if call == "urls":
                await pbx.action_urls.list("i")
            elif call == "ivrs":
                [s async for s in pbx.ivrs.list()]
            elif call == "create":
                await pbx.ivrs.create(name="M", extension_number="800", pin="582046")
            else:
                await pbx.ivrs.get("i")
    # An IVRHooksError, so registration's loop retries it instead of dying.
    assert isinstance(info.value, IVRHooksError)
    assert field in str(info.value)
