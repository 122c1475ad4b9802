"""An app moved to another public URL or port takes its entries along, updated in place; two
deployments of one app that differ are a conflict saying to set ``IVRHOOKS_APP_ID``; an identity
set with ``IVRHOOKS_APP_ID`` never takes over entries from elsewhere, nor is taken over."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from ivrhooks import IVRHooks, call
from ivrhooks.conf.config import PBXConfig
from ivrhooks.core.request import ActionRequest
from ivrhooks.errors import RegistrationConflictError
from ivrhooks.manifest import derive_app_id
from ivrhooks.registration import Registration, desired_state
from ivrhooks.registration.job import pbx_client
from ivrhooks.registration.plan import plan_receptionist
from ivrhooks.registration.reconcile import reconcile
from ivrhooks.schema.models import ActionUrl
from ivrhooks.testing import FakePBX
from tests.registration.helpers import add_menu, new_app, served_app


def _menu(pbx_base: str | None, fake: FakePBX | None, url: str, **options: Any) -> IVRHooks:
    """The same app (one module: this helper's) wherever it is served."""
    options.setdefault("app_id", None)  # derived, as with no IVRHOOKS_APP_ID
    app = new_app(pbx_base, fake, public_url=url, **options)
    add_menu(app)
    return app


def _entries(fake: FakePBX) -> dict[str, tuple[str, str]]:
    """``{entry id: (name, url)}`` on receptionist 8000."""
    return {u.id: (str(u.name), str(u.url)) for u in fake.action_urls("8000")}


async def test_an_app_moved_to_another_port_updates_its_entries_in_place(
    fake: FakePBX, pbx_base: str
) -> None:
    seen: list[tuple[str, dict[str, tuple[str, str]]]] = []
    for _ in range(2):  # served on one port, then, stopped, on another
        service = Registration(interval=0)

        def build(base: str, service: Registration = service) -> IVRHooks:
            app = _menu(pbx_base, fake, base)
            app.services.append(service)
            return app

        async with served_app(build=build) as (_, base):
            await asyncio.wait_for(service.wait_for(successes=1), 30)
            async with httpx.AsyncClient() as http:
                ready = await http.get(base + "/readyz")
            answered = await fake.dial(to="8000", caller="101", digits="1")
            assert ready.status_code == 200, ready.text
            assert (answered.status, answered.destination) == (200, "2001")
            seen.append((base, _entries(fake)))
            writes = fake.counters
    (first, before), (second, after) = seen
    assert first != second
    assert after.keys() == before.keys(), "the same entries: updated, none created or deleted"
    for name, url in after.values():
        route = name.removeprefix("ivrhooks:").partition("@")[0]
        assert url == f"{second}/hooks/{route}", "each now calls the app where it moved"
    moved_id = derive_app_id("helpers", second)
    assert sorted(name for name, _ in after.values()) == [
        f"ivrhooks:{route}@{moved_id}" for route in ("accounts", "sales", "vip")
    ]
    assert (writes.creates, writes.destroys) == (3, 0), "three created once, then only updated"
    assert writes.updates == 3


def test_entries_from_elsewhere_with_other_routes_are_another_deployment() -> None:
    production = _menu(None, None, "https://ivr.example")
    staging = _menu(None, None, "https://staging.example")

    @staging.dtmf("9")
    async def promo(req: ActionRequest) -> object:
        return call("2009")

    existing = _existing(production)
    plan = _plan(staging, existing)
    assert plan.updates == () and plan.deletes == ()
    (conflict, *more) = plan.conflicts
    print(conflict)
    assert len(more) == 2, "sales, accounts and vip all answer inputs of production's entries"
    assert "registered by this app's module from the public URL https://ivr.example" in conflict
    assert "set IVRHOOKS_APP_ID to a different value on each" in conflict
    assert "IVRHOOKS_PUBLIC_URL=https://ivr.example" in conflict


async def test_two_deployments_that_differ_write_nothing_and_name_IVRHOOKS_APP_ID(
    fake: FakePBX, pbx_base: str
) -> None:
    production = _menu(pbx_base, fake, "https://ivr.example")
    staging = _menu(pbx_base, fake, "https://staging.example")

    @staging.dtmf("9")
    async def promo(req: ActionRequest) -> object:
        return call("2009")

    async with pbx_client(_pbx(production)) as pbx:
        first = production.manifest()
        await reconcile(pbx, desired_state(first), app_id=first.app_id)
        writes = fake.counters.writes
        second = staging.manifest()
        with pytest.raises(RegistrationConflictError, match="IVRHOOKS_APP_ID") as caught:
            await reconcile(pbx, desired_state(second), app_id=second.app_id)
    assert "https://ivr.example" in str(caught.value)
    assert fake.counters.writes == writes, "refused: not one write"
    assert {url for _, url in _entries(fake).values()} == {
        f"https://ivr.example/hooks/{route}" for route in ("sales", "accounts", "vip")
    }


def test_only_the_same_modules_derived_identity_moves() -> None:
    """From https://a.example to https://b.example, the same routes: taken over only when
    both identities are derived, from the same module; otherwise another app's (a conflict)."""
    a, b = "https://a.example", "https://b.example"
    other_module = derive_app_id("crm_lookup", a)
    cases = {
        "derived, same module": (_existing(_menu(None, None, a)), None),
        "derived, another module": (_renamed(_existing(_menu(None, None, a)), other_module), None),
        "derived, then set": (_existing(_menu(None, None, a)), "prod"),
        "set, then derived": (_existing(_menu(None, None, a, app_id="prod")), None),
        "set, then another": (_existing(_menu(None, None, a, app_id="prod")), "prod2"),
    }
    moved = {}
    for case, (existing, here) in cases.items():
        plan = _plan(_menu(None, None, b, app_id=here), existing)
        moved[case] = not plan.conflicts and plan.creates == () and len(plan.updates) == 3
        if not moved[case]:
            assert len(plan.conflicts) == 3 and plan.updates == () and plan.deletes == ()
            assert all("of another app" in c and "IVRHOOKS_APP_ID" not in c for c in plan.conflicts)
    assert moved == {case: case == "derived, same module" for case in cases}


def test_setting_an_app_id_where_the_app_is_renames_its_entries_in_place() -> None:
    existing = _existing(_menu(None, None, "https://a.example"))
    plan = _plan(_menu(None, None, "https://a.example", app_id="prod"), existing)
    assert plan.conflicts == () and plan.creates == () and plan.deletes == ()
    assert sorted((u.id, u.name, u.changed) for u in plan.updates) == [
        ("e0", "ivrhooks:sales@prod", ("name",)),
        ("e1", "ivrhooks:accounts@prod", ("name",)),
        ("e2", "ivrhooks:vip@prod", ("name",)),
    ]


def _existing(app: IVRHooks) -> list[ActionUrl]:
    return [
        ActionUrl.model_validate({**d.body.model_dump(mode="json"), "id": f"e{i}"})
        for i, d in enumerate(desired_state(app.manifest())["8000"].values())
    ]


def _renamed(entries: list[ActionUrl], app_id: str) -> list[ActionUrl]:
    return [
        e.model_copy(update={"name": f"{str(e.name).partition('@')[0]}@{app_id}"}) for e in entries
    ]


def _plan(app: IVRHooks, existing: list[ActionUrl]) -> Any:
    manifest = app.manifest()
    return plan_receptionist(
        "8000", "ivr1", desired_state(manifest)["8000"], existing, app_id=manifest.app_id
    )


def _pbx(app: IVRHooks) -> PBXConfig:
    config = app.configure().pbx
    assert config is not None
    return config
