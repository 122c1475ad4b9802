"""Registration against the fake PBX over real HTTP on loopback."""

from __future__ import annotations

import asyncio
import logging
import socket

import httpx
import pytest
from starlette.types import ASGIApp, Receive, Scope, Send

from ivrhooks import IVRHooks, call
from ivrhooks.core.request import ActionRequest
from ivrhooks.pbx import RetryPolicy
from ivrhooks.registration import Registration, desired_state
from ivrhooks.testing import FakePBX, serve
from tests.registration.helpers import SECRET, add_menu, new_app, served_app


def registered(fake: FakePBX, ext: str = "8000") -> dict[str, list[dict[str, object]]]:
    found: dict[str, list[dict[str, object]]] = {}
    for url in fake.action_urls(ext):
        found.setdefault(str(url.name), []).append(url.model_dump(mode="json"))
    return found


def menu_app(pbx_base: str, fake: FakePBX, service: Registration, **options: object):
    def build(base: str) -> IVRHooks:
        app = new_app(pbx_base, fake, public_url=base, **options)  # type: ignore[arg-type]
        add_menu(app)
        app.services.append(service)
        return app

    return build


async def test_fresh_registration_writes_every_field_then_a_restart_writes_nothing(
    fake: FakePBX, pbx_base: str
) -> None:
    service = Registration(interval=0)
    build = menu_app(pbx_base, fake, service, receptionists=["8000", "8001"], method="GET")
    async with served_app(build=build) as (app, base):
        await service.wait_for(successes=1)
        async with httpx.AsyncClient(base_url=base) as http:
            assert (await http.get("/readyz")).status_code == 200
        expected = desired_state(app.manifest())
    for ext in ("8000", "8001"):
        urls = registered(fake, ext)
        assert sorted(urls) == [
            "ivrhooks:accounts@test",
            "ivrhooks:sales@test",
            "ivrhooks:vip@test",
        ]
        sales = urls["ivrhooks:sales@test"][0]
        want = expected[ext]["ivrhooks:sales@test"].body
        assert sales["enabled"] is True
        assert sales["type"] == "DTMF" and sales["dtmf_mask"] == "1;2"
        assert sales["method"] == "GET"
        assert sales["url"] == base + "/hooks/sales"
        assert sales["auth"] == "BASIC"
        assert (sales["username"], sales["password"]) == (want.username, want.password)
        assert sales["connection_timeout"] == sales["request_timeout"] == 2
        assert urls["ivrhooks:vip@test"][0]["caller_mask"] == "5550100"
    assert fake.counters.creates == 6

    fake.reset_counters()
    again = Registration(interval=0)
    # The same app started again (same public URL, same secret): nothing to write.
    app2 = new_app(pbx_base, fake, public_url=base, receptionists=["8000", "8001"], method="GET")
    add_menu(app2)
    app2.services.append(again)
    async with serve(app2):
        await again.wait_for(successes=1)
    assert fake.counters.writes == 0
    assert fake.counters.calls > 0  # it did read


async def test_hand_edit_is_put_back_and_hand_made_entries_survive(
    fake: FakePBX, pbx_base: str, caplog: pytest.LogCaptureFixture
) -> None:
    ivr_id = fake.ivr("8000").id
    hand = {
        "name": "crm",
        "enabled": True,
        "type": "DTMF",
        "dtmf_mask": "2;7",
        "url": "http://crm/x",
    }
    hand_id = fake.resources.create_action_url(ivr_id, hand)
    service = Registration(interval=0.05)
    caplog.set_level(logging.WARNING, "ivrhooks.registration")
    async with served_app(build=menu_app(pbx_base, fake, service)) as (_, base):
        await service.wait_for(successes=1)
        sales = registered(fake)["ivrhooks:sales@test"][0]
        fake.resources.update_action_url(
            ivr_id, str(sales["id"]), {"url": "http://elsewhere.example.com/x", "enabled": False}
        )
        seen = service.successes
        await service.wait_for(successes=seen + 2)
    urls = registered(fake)
    assert urls["ivrhooks:sales@test"][0]["url"] == base + "/hooks/sales"
    assert urls["ivrhooks:sales@test"][0]["enabled"] is True
    assert urls["ivrhooks:sales@test"][0]["id"] == sales["id"]  # updated in place, not recreated
    assert [u["id"] for u in urls["crm"]] == [hand_id]
    assert urls["crm"][0]["url"] == "http://crm/x"
    assert any("'crm'" in r.getMessage() and "'sales'" in r.getMessage() for r in caplog.records)


async def test_pbx_down_at_startup_then_up_flips_readyz(fake: FakePBX) -> None:
    # A bound socket that does not listen refuses connections: the PBX is "down".
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    pbx_base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    once = {"retry": RetryPolicy(max_attempts=1)}
    service = Registration(backoff_base=0.02, backoff_cap=0.1, client_options=once)
    async with (
        served_app(build=menu_app(pbx_base, fake, service)) as (_, base),
        httpx.AsyncClient(base_url=base) as http,
    ):
        await service.wait_for(failures=1)
        down = await http.get("/readyz")
        assert down.status_code == 503
        assert "registration failed" in down.json()["reason"]
        assert (await http.get("/healthz")).status_code == 200  # serving all along
        sock.listen(128)
        sock.setblocking(False)
        async with serve(fake.app, sock=sock):
            await service.wait_for(successes=1)
            assert (await http.get("/readyz")).status_code == 200
    assert sorted(registered(fake)) == [
        "ivrhooks:accounts@test",
        "ivrhooks:sales@test",
        "ivrhooks:vip@test",
    ]


async def test_expired_token_during_periodic_reconcile_is_refreshed(
    fake: FakePBX, pbx_base: str
) -> None:
    service = Registration(interval=0.02)
    async with served_app(build=menu_app(pbx_base, fake, service)):
        await service.wait_for(successes=1)
        before = fake.tokens.logins + fake.tokens.refreshes
        fake.expire_tokens()
        await service.wait_for(successes=3)
        assert fake.tokens.logins + fake.tokens.refreshes > before
    assert service.failures == 0
    assert all(len(v) == 1 for v in registered(fake).values())


async def test_unknown_receptionist_is_named_in_readyz(fake: FakePBX, pbx_base: str) -> None:
    service = Registration(backoff_base=0.05, backoff_cap=0.1)
    build = menu_app(pbx_base, fake, service, receptionists=["8000", "8999"])
    async with served_app(build=build) as (_, base), httpx.AsyncClient(base_url=base) as http:
        await service.wait_for(failures=1)
        response = await http.get("/readyz")
    assert response.status_code == 503
    assert "8999" in response.json()["reason"]
    assert registered(fake) == {}  # no receptionist was half-registered


class RaceDoor:
    """The fake PBX's app, holding every action-URL create until creates sent with two
    different tokens (two instances' logins) have arrived: both instances read the empty list
    before either wrote, whatever the machine's scheduling."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.tokens: set[bytes] = set()
        self.open = asyncio.Event()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] == "POST"
            and "/action_urls" in scope["path"]
        ):
            self.tokens.add(dict(scope["headers"]).get(b"authorization", b""))
            if len(self.tokens) >= 2:
                self.open.set()
            await self.open.wait()
        await self.app(scope, receive, send)


async def test_two_instances_at_once_end_with_one_entry_per_route(fake: FakePBX) -> None:
    first, second = Registration(interval=0.05), Registration(interval=0.05)
    async with (
        serve(RaceDoor(fake.app)) as pbx_base,
        served_app(build=menu_app(pbx_base, fake, first)) as (_, base),
        served_app(build=lambda _: _twin(pbx_base, fake, second, base)),
    ):
        async with asyncio.timeout(30):
            await asyncio.gather(first.wait_for(successes=2), second.wait_for(successes=2))
    assert fake.counters.creates == 6  # both created every route: the race did happen
    urls = registered(fake)
    assert sorted(urls) == ["ivrhooks:accounts@test", "ivrhooks:sales@test", "ivrhooks:vip@test"]
    assert all(len(entries) == 1 for entries in urls.values())


def _twin(pbx_base: str, fake: FakePBX, service: Registration, public_url: str) -> IVRHooks:
    # A second replica: same public URL (behind one load balancer), same secret.
    app = new_app(pbx_base, fake, public_url=public_url)
    add_menu(app)
    app.services.append(service)
    return app


async def test_rotation_retires_the_previous_secret_after_success(
    fake: FakePBX, pbx_base: str
) -> None:
    service = Registration(interval=0)
    build = menu_app(pbx_base, fake, service, previous_secret="the-old-secret-0123456789")
    async with served_app(build=build) as (app, _):
        assert app.runtime.secrets.previous is not None
        await service.wait_for(successes=1)
        assert app.runtime.secrets.previous is None


@pytest.mark.parametrize("scheme", ["basic", "digest", "bearer"])
@pytest.mark.parametrize("method", ["POST", "GET"])
async def test_dial_reaches_the_handler_through_the_registered_url(
    fake: FakePBX, pbx_base: str, scheme: str, method: str
) -> None:
    service = Registration(interval=0)
    seen: list[ActionRequest] = []

    def build(base: str) -> IVRHooks:
        app = new_app(pbx_base, fake, public_url=base, auth=scheme, method=method)

        @app.dtmf("1")
        async def sales(req: ActionRequest) -> object:
            seen.append(req)
            return call("2001")

        @app.caller("5550100")
        async def vip(req: ActionRequest) -> object:
            return call("2003")

        app.services.append(service)
        return app

    async with served_app(build=build):
        await service.wait_for(successes=1)
        dtmf = await fake.dial(to="8000", caller="101", digits="1")
        vip = await fake.dial(to="8000", caller="5550100")
    assert dtmf.error is None, dtmf.error
    assert (dtmf.action, dtmf.destination) == ("call", "2001")
    assert seen and seen[0].digits == "1" and seen[0].method == method
    assert (vip.action, vip.destination) == ("call", "2003")
    assert SECRET not in str(dtmf.fields)
