"""Refused credentials make the app look at the PBX again only when the refusal could be the
PBX holding stale credentials; a stranger's wrong password never makes it rewrite anything,
and rewriting secrets the PBX merely hides does not make the app not ready."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import httpx
import pytest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ivrhooks import ActionRequest, IVRHooks, call
from ivrhooks.core.auth import derive_credentials
from ivrhooks.registration import Registration
from ivrhooks.testing import FakePBX, serve
from tests.registration.helpers import SECRET, new_app, served_app

CALL = {"from": "101", "to": "8000", "input": "1", "session_id": "s1"}


def _build(
    pbx_base: str, fake: FakePBX, service: Registration, **options: object
) -> Callable[[str], IVRHooks]:
    def build(base: str) -> IVRHooks:
        app = new_app(pbx_base, fake, public_url=base, **options)  # type: ignore[arg-type]

        @app.dtmf("1")
        async def sales(req: ActionRequest) -> object:
            return call("2001")

        app.services.append(service)
        return app

    return build


async def _post(base: str, username: str, password: str) -> int:
    async with httpx.AsyncClient() as http:
        reply = await http.post(base + "/hooks/sales", json=CALL, auth=(username, password))
    return reply.status_code


WRONG = ("strangeruser", "wrongpassword")


async def test_a_strangers_wrong_password_asks_for_no_recheck(fake: FakePBX, pbx_base: str) -> None:
    service = Registration(interval=3600)
    async with served_app(build=_build(pbx_base, fake, service)) as (app, base):
        await service.wait_for(successes=1)
        signals = app.runtime.signals
        calls = fake.counters.calls
        assert await _post(base, *WRONG) == 401
        assert await _post(base, "nocredentialsatall", "") == 401
        assert signals.rechecks == 0, "a source that never authenticated"
        assert not signals.recheck.is_set()
        # The same source, once it has authenticated, is believed to be the PBX.
        good = derive_credentials(SECRET, "sales")
        assert await _post(base, good.username, good.password) == 200
        assert await _post(base, *WRONG) == 401
        assert signals.rechecks == 1
        await asyncio.wait_for(service.wait_for(successes=2), 10)
    assert fake.counters.calls > calls, "the recheck read the PBX"


async def test_behind_an_allow_list_any_refusal_may_be_the_pbx(
    fake: FakePBX, pbx_base: str
) -> None:
    service = Registration(interval=3600)
    build = _build(pbx_base, fake, service, env={"IVRHOOKS_ALLOW": "127.0.0.0/8"})
    async with served_app(build=build) as (app, base):
        await service.wait_for(successes=1)
        assert await _post(base, *WRONG) == 401
        assert app.runtime.signals.rechecks == 1
        await asyncio.wait_for(service.wait_for(successes=2), 10)


async def test_the_previous_secrets_username_may_be_the_pbx(fake: FakePBX, pbx_base: str) -> None:
    service = Registration(interval=3600)
    previous = "the-previous-secret-0123456789"
    build = _build(pbx_base, fake, service, previous_secret=previous)
    async with served_app(build=build) as (app, base):
        await service.wait_for(successes=1)  # the rotation is over: the previous one retired
        old = derive_credentials(previous, "sales")
        assert await _post(base, old.username, old.password) == 401
        assert app.runtime.signals.rechecks == 1


class HidingPBX:
    """The fake PBX as a PBX that never shows secrets on GET, with writes to action URLs held
    at the door while ``holding`` (the pass that makes one is then in the middle of it)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.holding = False
        self.arrived = asyncio.Event()
        self.release = asyncio.Event()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or "/action_urls" not in scope["path"]:
            await self.app(scope, receive, send)
            return
        if scope["method"] == "POST" and self.holding:
            self.arrived.set()
            await self.release.wait()
        if scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        parts: list[Message] = []

        async def keep(message: Message) -> None:
            parts.append(message)

        await self.app(scope, receive, keep)
        start, *bodies = parts
        body = json.loads(b"".join(m.get("body", b"") for m in bodies) or b"null")
        for item in body.get("items", []) if isinstance(body, dict) else []:
            item.pop("password", None)
            item.pop("token", None)
        raw = json.dumps(body).encode()
        headers = [(k, v) for k, v in start["headers"] if k != b"content-length"]
        await send({**start, "headers": [*headers, (b"content-length", str(len(raw)).encode())]})
        await send({"type": "http.response.body", "body": raw})


async def test_rewriting_hidden_secrets_keeps_the_app_ready(fake: FakePBX) -> None:
    """The PBX hides secrets, so a recheck rewrites every entry's secrets blind: the app stays
    ready (its entries are not known to differ) and calls go on being answered meanwhile."""
    service = Registration(interval=3600)
    door = HidingPBX(fake.app)
    async with serve(door) as pbx_base:
        build = _build(pbx_base, fake, service)
        async with served_app(build=build) as (app, base), httpx.AsyncClient() as http:
            await asyncio.wait_for(service.wait_for(successes=1), 10)
            answered = await fake.dial(to="8000", caller="101", digits="1")  # a known source
            updates = fake.counters.updates
            door.holding = True
            try:
                assert await _post(base, *WRONG) == 401  # from the known source: may be the PBX
                await asyncio.wait_for(door.arrived.wait(), 10)  # the blind rewrite at the door
                during = await http.get(base + "/readyz")
                meanwhile = await fake.dial(to="8000", caller="101", digits="1")
            finally:
                door.release.set()
            await asyncio.wait_for(service.wait_for(successes=2), 10)
    assert app.runtime.signals.rechecks == 1
    assert answered.status == 200 and meanwhile.status == 200
    assert during.status_code == 200, during.json()
    assert fake.counters.updates == updates + 1, "the secret was rewritten, blind"


@pytest.mark.parametrize("reason", ["missing", "malformed", "throttled"])
def test_only_credentials_that_parse_can_ask(reason: str) -> None:
    from ivrhooks.core.auth.verdict import Verdict
    from ivrhooks.runtime import Signals

    signals = Signals(allowed_only=True)
    signals.authenticated("192.0.2.7")
    signals.refused(Verdict(False, 401, reason), "192.0.2.7")
    assert signals.rechecks == 0
    signals.refused(Verdict(False, 401, "bad_credentials"), "192.0.2.7")
    assert signals.rechecks == 1
