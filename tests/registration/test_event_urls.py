"""IVRHOOKS_REGISTER_EVENTS: the tenant's event URLs are pointed at this app when unset,
disabled or already its own, and never when another system's URL is there; only the event
objects are sent, and what the PBX keeps is read back. Real HTTP between the app's REST client
and the fake PBX."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable

import pytest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ivrhooks import ActionRequest, IVRHooks, call
from ivrhooks.core.auth import derive_credentials
from ivrhooks.registration import Registration
from ivrhooks.registration.events import plan_event_urls
from ivrhooks.schema.tenant import EventUrl, EventUrlUpdate, Tenant
from ivrhooks.testing import FakePBX, serve
from tests.registration.helpers import SECRET, new_app, served_app

FOREIGN = "https://crm.example.net/portsip/cdr?key=not-for-logs"


class TenantDoor:
    """The fake PBX, with every ``/tenant`` request recorded, and (``keep=False``) a POST that
    answers 200 but keeps nothing, as a PBX might; ``missing=True``: no ``/tenant`` at all."""

    def __init__(self, app: ASGIApp, *, keep: bool = True, missing: bool = False) -> None:
        self.app = app
        self.keep = keep
        self.missing = missing
        self.posts: list[dict[str, object]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].endswith("/tenant"):
            await self.app(scope, receive, send)
            return
        if self.missing:
            await send({"type": "http.response.start", "status": 404, "headers": []})
            await send({"type": "http.response.body", "body": b'{"message":"not found"}'})
            return
        if scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        self.posts.append(json.loads(body))
        if not self.keep:
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


def _build(pbx_base: str, fake: FakePBX, service: Registration) -> Callable[[str], IVRHooks]:
    def build(base: str) -> IVRHooks:
        app = new_app(pbx_base, fake, public_url=base, env={"IVRHOOKS_REGISTER_EVENTS": "true"})

        @app.dtmf("1")
        async def sales(req: ActionRequest) -> object:
            return call("2001")

        app.services.append(service)
        return app

    return build


async def _registered(fake: FakePBX, door: TenantDoor) -> tuple[Registration, str]:
    # Two passes, as the service makes one every interval.
    service = Registration(interval=0.05)
    async with (
        serve(door) as pbx_base,
        served_app(build=_build(pbx_base, fake, service)) as (_, base),
    ):
        await asyncio.wait_for(service.wait_for(successes=2), 10)
        await service.halt()
    return service, base


async def test_unset_event_urls_are_pointed_at_the_app(fake: FakePBX) -> None:
    door = TenantDoor(fake.app)
    service, base = await _registered(fake, door)
    for kind in ("cdr", "extension"):
        field = f"{kind}_event"
        got = fake.tenant[field]
        credentials = derive_credentials(SECRET, f"events-{kind}")
        assert got["enabled"] is True and got["auth"] == "BASIC"
        assert got["url"] == f"{base}/events/{kind}"
        assert (got["username"], got["password"]) == (credentials.username, credentials.password)
    # Only the event objects are ever sent (whether POST /tenant merges is undocumented), and
    # once: the second pass found them in place.
    assert [sorted(post) for post in door.posts] == [["cdr_event", "extension_event"]]
    assert service.events.last is not None and service.events.last.problems == ()


async def test_a_foreign_url_is_never_overwritten_and_said_once(
    fake: FakePBX, caplog: pytest.LogCaptureFixture
) -> None:
    fake.set_event_url("cdr", FOREIGN)
    door = TenantDoor(fake.app)
    with caplog.at_level(logging.WARNING, "ivrhooks.registration"):
        service, _ = await _registered(fake, door)
    assert fake.tenant["cdr_event"]["url"] == FOREIGN
    assert [sorted(post) for post in door.posts] == [["extension_event"]]
    said = [r.getMessage() for r in caplog.records if "cdr_event" in r.getMessage()]
    assert len(said) == 1, said  # two passes, one warning
    assert "https://crm.example.net/portsip/cdr" in said[0]
    assert "not-for-logs" not in said[0], "a foreign URL's query may hold its token"
    assert service.events.last is not None
    assert [p.verdict for p in service.events.last.plans] == ["foreign", "in place"]


async def test_a_disabled_url_and_this_apps_stale_credentials_are_rewritten(
    fake: FakePBX,
) -> None:
    fake.set_event_url("cdr", FOREIGN, enabled=False)
    door = TenantDoor(fake.app)
    _, base = await _registered(fake, door)
    assert fake.tenant["cdr_event"]["url"] == f"{base}/events/cdr"
    # Now the app's own URL, with credentials from another secret: rewritten on the next pass.
    stale = derive_credentials("another-secret-0123456789-abcdef", "events-cdr")
    fake.set_event_url(
        "cdr",
        f"{base}/events/cdr",
        auth="BASIC",
        username=stale.username,
        password=stale.password,
    )
    tenant = Tenant.model_validate(fake.tenant)
    desired = {
        "cdr": EventUrlUpdate(
            enabled=True,
            auth="BASIC",
            url=f"{base}/events/cdr",
            username=derive_credentials(SECRET, "events-cdr").username,
            password=derive_credentials(SECRET, "events-cdr").password,
        )
    }
    [plan] = plan_event_urls(tenant, desired, written={"cdr_event"})
    assert plan.verdict == "write" and "password" in plan.reason
    assert stale.password not in plan.reason


async def test_secrets_the_pbx_hides_are_written_once_not_every_pass() -> None:
    fake = FakePBX(hide_event_secrets=True)
    fake.add_ivr("8000", "Main")
    door = TenantDoor(fake.app)
    await _registered(fake, door)
    assert len(door.posts) == 1, "the second pass trusts what this process wrote"


def test_hidden_secrets_of_this_apps_url_are_written_when_not_written_yet() -> None:
    url = "https://ivr.example.com/events/cdr"
    tenant = Tenant(cdr_event=EventUrl(enabled=True, auth="BASIC", username="abcdef", url=url))
    desired = {
        "cdr": EventUrlUpdate(
            enabled=True,
            auth="BASIC",
            url=url,
            username="abcdef",
            password="secret0123",
        )
    }
    assert [p.verdict for p in plan_event_urls(tenant, desired)] == ["write"]
    assert [p.verdict for p in plan_event_urls(tenant, desired, written={"cdr_event"})] == [
        "in place"
    ]


async def test_a_write_the_pbx_does_not_keep_is_reported(fake: FakePBX) -> None:
    door = TenantDoor(fake.app, keep=False)
    service, _ = await _registered(fake, door)
    last = service.events.last
    assert last is not None and last.written == ()
    assert len(last.problems) == 2 and all("not taken" in p for p in last.problems)
    assert len(door.posts) == 2, "not believed written: tried again on the next pass"


async def test_a_pbx_without_tenant_settings_still_registers_the_action_urls(
    fake: FakePBX, caplog: pytest.LogCaptureFixture
) -> None:
    door = TenantDoor(fake.app, missing=True)
    with caplog.at_level(logging.WARNING, "ivrhooks.registration"):
        service, _ = await _registered(fake, door)
    assert service.failures == 0 and service.successes == 2
    assert [e.name for e in fake.action_urls("8000")] == ["ivrhooks:sales@test"]
    said = [r.getMessage() for r in caplog.records if "event URLs not registered" in r.getMessage()]
    assert len(said) == 1, said
