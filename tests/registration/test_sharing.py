"""Apps that share a PBX never fight: each touches only its own entries, an input both would
answer is a conflict naming both, 0.1-named entries are adopted by their app, and an app whose
entries were rewritten under it notices and re-registers."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from starlette.types import ASGIApp, Receive, Scope, Send

from ivrhooks import IVRHooks, call
from ivrhooks.conf.config import PBXConfig
from ivrhooks.core.auth import derive_credentials
from ivrhooks.core.request import ActionRequest
from ivrhooks.errors import RegistrationConflictError
from ivrhooks.registration import Registration, desired_state
from ivrhooks.registration.job import pbx_client
from ivrhooks.registration.owner import derive_app_id, parse_name
from ivrhooks.registration.plan import plan_receptionist
from ivrhooks.registration.reconcile import reconcile
from ivrhooks.schema.models import ActionUrl
from ivrhooks.testing import FakePBX, serve
from tests.registration.helpers import SECRET, add_menu, new_app, served_app


def _pbx(app: IVRHooks) -> PBXConfig:
    config = app.configure().pbx
    assert config is not None
    return config


def _menu(public_url: str = "https://a.example", **options: Any) -> IVRHooks:
    app = new_app(None, None, public_url=public_url, **options)
    add_menu(app)
    return app


def test_two_apps_get_different_identities_by_default() -> None:
    assert derive_app_id("quickstart", "https://ivr.example") != derive_app_id(
        "crm_lookup", "https://ivr.example"
    )
    assert derive_app_id("quickstart", "https://a.example") != derive_app_id(
        "quickstart", "https://b.example"
    ), "staging and production of one app are two apps"
    replica = derive_app_id("quickstart", "https://a.example")
    assert replica == derive_app_id("quickstart", "https://a.example"), "replicas agree"
    assert len(replica) == 6 and replica.isalnum()
    # With no setting at all, the identity comes from the module that made the app.
    app = IVRHooks(["8000"], secret=SECRET, public_url="https://a.example", env=False)
    add_menu(app)
    assert app.name == "test_sharing"
    assert app.manifest().app_id == derive_app_id("test_sharing", "https://a.example")
    assert set(desired_state(app.manifest())["8000"]) == {
        f"ivrhooks:{route}@{app.manifest().app_id}" for route in ("sales", "accounts", "vip")
    }


def test_names_parse_back() -> None:
    assert parse_name("ivrhooks:sales@abc123#2") is not None
    parsed = parse_name("ivrhooks:sales@abc123#2")
    assert parsed is not None and (parsed.route, parsed.app, parsed.chunk) == (
        "sales",
        "abc123",
        2,
    )
    legacy = parse_name("ivrhooks:sales")
    assert legacy is not None and (legacy.app, legacy.chunk) == (None, 1)
    assert parse_name("crm") is None and parse_name("ivrhooks:Sales!") is None


def _existing(app: IVRHooks, id_prefix: str, **changes: Any) -> list[ActionUrl]:
    return [
        ActionUrl.model_validate(
            {**d.body.model_dump(mode="json"), "id": f"{id_prefix}{i}", **changes}
        )
        for i, d in enumerate(desired_state(app.manifest())["8000"].values())
    ]


def test_another_apps_entries_are_never_touched() -> None:
    ours = _menu(app_id="ours")
    theirs = new_app(None, None, public_url="https://b.example", app_id="theirs")

    @theirs.dtmf("7")
    async def other(req: ActionRequest) -> object:
        return call("7")

    existing = _existing(theirs, "t")
    plan = plan_receptionist(
        "8000", "ivr1", desired_state(ours.manifest())["8000"], existing, app_id="ours"
    )
    assert [c.name for c in plan.creates] == [
        "ivrhooks:sales@ours",
        "ivrhooks:accounts@ours",
        "ivrhooks:vip@ours",
    ]
    assert plan.deletes == () and plan.updates == () and plan.conflicts == ()


def test_an_input_both_apps_answer_is_a_conflict_naming_both() -> None:
    ours = _menu(app_id="ours")
    theirs = new_app(None, None, public_url="https://b.example", app_id="theirs")

    @theirs.dtmf("2")  # our "sales" route takes 1;2
    async def support(req: ActionRequest) -> object:
        return call("2")

    plan = plan_receptionist(
        "8000",
        "ivr1",
        desired_state(ours.manifest())["8000"],
        _existing(theirs, "t"),
        app_id="ours",
    )
    assert not plan.in_sync
    (conflict,) = plan.conflicts
    assert "'ivrhooks:support@theirs'" in conflict and "https://b.example/hooks/support" in conflict
    assert "route 'sales' of this app ('ivrhooks:sales@ours'," in conflict
    assert "https://a.example/hooks/sales" in conflict
    assert "DTMF input '2'" in conflict


def test_entries_named_by_0_1_are_adopted_by_their_app_only() -> None:
    app = _menu(app_id="ours")
    legacy = [
        e.model_copy(update={"name": str(e.name).partition("@")[0]}) for e in _existing(app, "l")
    ]
    plan = plan_receptionist(
        "8000", "ivr1", desired_state(app.manifest())["8000"], legacy, app_id="ours"
    )
    assert plan.creates == () and plan.deletes == ()
    assert [(u.id, u.name, u.changed) for u in plan.updates] == [
        ("l0", "ivrhooks:sales@ours", ("name",)),
        ("l1", "ivrhooks:accounts@ours", ("name",)),
        ("l2", "ivrhooks:vip@ours", ("name",)),
    ], "renamed in place: not duplicated, not orphaned"
    # Another app's 0.1 entries (they call another URL) are left alone, and overlap is refused.
    other = [e.model_copy(update={"url": "https://old.example/hooks/x"}) for e in legacy]
    plan = plan_receptionist(
        "8000", "ivr1", desired_state(app.manifest())["8000"], other, app_id="ours"
    )
    assert plan.updates == () and plan.deletes == () and len(plan.creates) == 3
    assert len(plan.conflicts) == 3


async def test_on_one_pbx_two_apps_each_keep_their_entries(fake: FakePBX, pbx_base: str) -> None:
    first = new_app(pbx_base, fake, public_url="https://a.example", app_id="one")
    add_menu(first)
    second = new_app(pbx_base, fake, public_url="https://b.example", app_id="two")

    @second.dtmf("8")
    async def other(req: ActionRequest) -> object:
        return call("8")

    async with pbx_client(_pbx(first)) as pbx:
        for app in (first, second, first):  # the second pass of the first writes nothing
            manifest = app.manifest()
            report = await reconcile(pbx, desired_state(manifest), app_id=manifest.app_id)
        assert report.drift == 0
    names = sorted(str(u.name) for u in fake.action_urls("8000"))
    assert names == [
        "ivrhooks:accounts@one",
        "ivrhooks:other@two",
        "ivrhooks:sales@one",
        "ivrhooks:vip@one",
    ]


async def test_a_conflicting_app_writes_nothing_and_says_why(fake: FakePBX, pbx_base: str) -> None:
    first = new_app(pbx_base, fake, public_url="https://a.example", app_id="one")
    add_menu(first)
    second = new_app(pbx_base, fake, public_url="https://b.example", app_id="two")

    @second.dtmf("1")
    async def clash(req: ActionRequest) -> object:
        return call("9")

    async with pbx_client(_pbx(first)) as pbx:
        m1, m2 = first.manifest(), second.manifest()
        await reconcile(pbx, desired_state(m1), app_id=m1.app_id)
        writes = fake.counters.writes
        with pytest.raises(RegistrationConflictError, match="ivrhooks:sales@one") as caught:
            await reconcile(pbx, desired_state(m2), app_id=m2.app_id)
    assert "route 'clash' of this app" in str(caught.value)
    assert fake.counters.writes == writes, "refused: not one write"


async def test_run_refuses_to_register_over_another_app(fake: FakePBX, pbx_base: str) -> None:
    first = new_app(pbx_base, fake, public_url="https://a.example", app_id="one")
    add_menu(first)
    async with pbx_client(_pbx(first)) as pbx:
        m1 = first.manifest()
        await reconcile(pbx, desired_state(m1), app_id=m1.app_id)
    service = Registration(interval=0)

    def build(base: str) -> IVRHooks:
        app = new_app(pbx_base, fake, public_url=base, app_id="two")

        @app.dtmf("2")
        async def clash(req: ActionRequest) -> object:
            return call("9")

        app.services.append(service)
        return app

    async with served_app(build=build) as (app, base):
        # What `ivrhooks run` waits for: the signal to stop the server.
        signals = app.runtime.signals
        await service.wait_for(failures=1)
        async with httpx.AsyncClient() as http:
            ready = await http.get(base + "/readyz")
    assert ready.status_code == 503
    assert ready.json()["state"] == "conflict"
    assert "refusing to register" in ready.json()["reason"]
    assert signals.stopping.is_set()
    assert signals.stop_reason is not None and "ivrhooks:sales@one" in signals.stop_reason
    assert [str(u.name) for u in fake.action_urls("8000") if "@two" in str(u.name)] == []


async def test_refused_credentials_make_the_app_re_register_at_once(
    fake: FakePBX, pbx_base: str
) -> None:
    """Someone synced the app with another secret: the first refused call makes it look, it
    re-registers its own credentials, and the next call is answered."""
    service = Registration(interval=3600)  # no periodic pass will come to the rescue

    def build(base: str) -> IVRHooks:
        app = new_app(pbx_base, fake, public_url=base)

        @app.dtmf("1")
        async def sales(req: ActionRequest) -> object:
            return call("2001")

        app.services.append(service)
        return app

    async with served_app(build=build) as (_, base):
        await service.wait_for(successes=1)
        first = await fake.dial(to="8000", caller="101", digits="1")  # the PBX is known now
        assert first.status == 200
        other = derive_credentials("another-secret-0123456789", "sales")
        (entry,) = fake.action_urls("8000")
        ivr_id = fake.ivr("8000").id
        fake.resources.update_action_url(
            ivr_id, entry.id, {"username": other.username, "password": other.password}
        )
        refused = await fake.dial(to="8000", caller="101", digits="1")
        assert refused.status == 401
        await asyncio.wait_for(service.wait_for(successes=2), 10)
        answered = await fake.dial(to="8000", caller="101", digits="1")
        async with httpx.AsyncClient() as http:
            ready = (await http.get(base + "/readyz")).json()
    assert (answered.status, answered.destination) == (200, "2001")
    assert ready["status"] == "ready"
    assert fake.action_urls("8000")[0].password == derive_credentials(SECRET, "sales").password


class HeldWrites:
    """The fake PBX's app, with writes to action URLs held at the door while ``holding``: the
    registration that makes one is in the middle of its pass until ``release`` is set."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.holding = False
        self.arrived = asyncio.Event()
        self.release = asyncio.Event()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            self.holding
            and scope["type"] == "http"
            and scope["method"] == "POST"
            and "/action_urls" in scope["path"]
        ):
            self.arrived.set()
            await self.release.wait()
        await self.app(scope, receive, send)


async def test_readyz_says_it_is_re_registering_while_it_does(fake: FakePBX) -> None:
    """Between noticing that the PBX holds other credentials and having written its own, the
    app is not ready, and /readyz says why."""
    service = Registration(interval=3600)
    door = HeldWrites(fake.app)

    async with serve(door) as pbx_base:

        def build(base: str) -> IVRHooks:
            app = new_app(pbx_base, fake, public_url=base)

            @app.dtmf("1")
            async def sales(req: ActionRequest) -> object:
                return call("2001")

            app.services.append(service)
            return app

        async with served_app(build=build) as (_, base), httpx.AsyncClient() as http:
            await asyncio.wait_for(service.wait_for(successes=1), 10)
            before = await http.get(base + "/readyz")
            assert (await fake.dial(to="8000", caller="101", digits="1")).status == 200
            other = derive_credentials("another-secret-0123456789", "sales")
            (entry,) = fake.action_urls("8000")
            fake.resources.update_action_url(
                fake.ivr("8000").id,
                entry.id,
                {"username": other.username, "password": other.password},
            )
            door.holding = True
            try:
                refused = await fake.dial(to="8000", caller="101", digits="1")
                await asyncio.wait_for(door.arrived.wait(), 10)  # its write is at the door
                during = await http.get(base + "/readyz")
            finally:
                door.release.set()
            await asyncio.wait_for(service.wait_for(successes=2), 10)
            after = await http.get(base + "/readyz")
            answered = await fake.dial(to="8000", caller="101", digits="1")
    assert before.status_code == 200 and before.json()["status"] == "ready"
    assert refused.status == 401
    assert during.status_code == 503
    body = during.json()
    assert body["status"] == "not ready"
    assert body["reason"].startswith(
        "re-registering: 1 action URL(s) on the PBX differ from this app's"
    ), body
    assert after.status_code == 200 and after.json()["status"] == "ready"
    assert (answered.status, answered.destination) == (200, "2001")
