"""Dev entries (``ivrhooks dev --pbx``): their names, and how a dev session's plan and
production's plan each treat the other's entries. Pure: plans from values, no PBX."""

from __future__ import annotations

from typing import Any

import pytest

from ivrhooks import IVRHooks, PBXConfig, call
from ivrhooks.core.request import ActionRequest
from ivrhooks.core.types import MAX_NAME
from ivrhooks.errors import ConfigurationError
from ivrhooks.manifest import derive_app_id
from ivrhooks.registration.desired import desired_state
from ivrhooks.registration.dev import DevEntries
from ivrhooks.registration.devnames import dev_entry_name, parse_dev_name, to_base36
from ivrhooks.registration.job import RegistrationJob
from ivrhooks.registration.owner import parse_name
from ivrhooks.registration.plan import Plan, plan_receptionist
from ivrhooks.schema.models import ActionUrl
from tests.registration.helpers import SECRET

NOW = 1_800_000_000
DEV_URL = "https://dev-session.example"
PROD_URL = "https://ivr.example.com"


def _app(public_url: str, *, receptionists: tuple[str, ...] = ("8000", "8999")) -> IVRHooks:
    app = IVRHooks(list(receptionists), secret=SECRET, public_url=public_url, env=False)

    @app.dtmf("1")
    async def sales(req: ActionRequest) -> object:
        return call("2001")

    @app.dtmf("2")
    async def support(req: ActionRequest) -> object:
        return call("2002")

    return app


def _owner(app: IVRHooks, *, expires: int = NOW + 3600, force: bool = False) -> DevEntries:
    manifest = app.manifest()
    public = str(manifest.public_url)
    routes = tuple((e.name, public + e.path) for e in manifest.routes)
    return DevEntries(public_url=public, expires=expires, now=NOW, force=force, routes=routes)


def _entries(app: IVRHooks, owner: Any, prefix: str, **changes: Any) -> list[ActionUrl]:
    """The entries ``app`` would write on 8999 under ``owner``, as the PBX would list them."""
    wanted = desired_state(app.manifest(), owner=owner)["8999"].values()
    return [
        ActionUrl.model_validate(
            {**w.body.model_dump(mode="json"), "id": f"{prefix}{i}", **changes}
        )
        for i, w in enumerate(wanted)
    ]


def _dev_plan(app: IVRHooks, existing: list[ActionUrl], owner: DevEntries) -> Plan:
    desired = desired_state(app.manifest(), owner=owner)["8999"]
    return plan_receptionist(
        "8999", "ivr", desired, existing, app_id=app.manifest().app_id, owner=owner
    )


def test_a_dev_name_says_route_app_chunk_and_expiry_and_parses_back() -> None:
    name = dev_entry_name("sales", 1, "abc123", NOW)
    assert name == f"ivrhooks-dev:sales@abc123~{to_base36(NOW)}"
    assert to_base36(NOW) == "tro8w0" and int("tro8w0", 36) == NOW
    second = parse_dev_name(dev_entry_name("sales", 2, "abc123", NOW))
    assert second is not None
    assert (second.route, second.app, second.chunk, second.expires) == ("sales", "abc123", 2, NOW)
    assert second.stem == "ivrhooks-dev:sales@abc123#2"
    # Production's scheme never reads a dev name as its own, nor the other way round.
    assert parse_name(name) is None
    assert parse_dev_name("ivrhooks:sales@abc123") is None
    assert parse_dev_name("ivrhooks-dev:sales@abc123") is None, "no expiry: not a dev entry"


def test_a_dev_name_fits_the_pbx_whatever_the_route_and_stays_the_same() -> None:
    longest = "a" * 48  # the longest route name (core.routes)
    name = dev_entry_name(longest, 9999, "abcdefgh", NOW)
    assert len(name) <= MAX_NAME
    parsed = parse_dev_name(name)
    assert parsed is not None and parsed.chunk == 9999 and parsed.app == "abcdefgh"
    # Abbreviated the same way every time, so the entry is found again; two long routes that
    # share their start still get two names.
    assert dev_entry_name(longest, 9999, "abcdefgh", NOW) == name
    other = dev_entry_name("a" * 47 + "b", 9999, "abcdefgh", NOW)
    assert len(other) <= MAX_NAME and other != name
    # A name that fits is never abbreviated.
    assert parse_dev_name(dev_entry_name("sales", 1, "abc123", NOW)).route == "sales"  # type: ignore[union-attr]


def test_the_job_registers_on_the_named_receptionists_only() -> None:
    app = _app(DEV_URL)
    config = app.configure().replace(pbx=PBXConfig("http://127.0.0.1:9/api", token="t"))
    owner = _owner(app)
    job = RegistrationJob.of(config, app.manifest(config), owner=owner, receptionists=["8999"])
    assert list(job.state) == ["8999"]
    assert all(name.startswith("ivrhooks-dev:") for name in job.state["8999"])
    with pytest.raises(ConfigurationError, match=r"receptionist 8111: the app serves no route"):
        RegistrationJob.of(config, app.manifest(config), owner=owner, receptionists=["8111"])


def test_a_renewal_or_a_reload_updates_the_sessions_entries_in_place() -> None:
    app = _app(DEV_URL)
    earlier = _owner(app, expires=NOW + 60)
    existing = _entries(app, earlier, "d")
    plan = _dev_plan(app, existing, _owner(app, expires=NOW + 3600))
    assert not plan.creates and not plan.deletes and not plan.conflicts
    assert sorted(u.id for u in plan.updates) == ["d0", "d1"]
    assert all(u.changed == ("name",) for u in plan.updates)
    # A route the app no longer declares: its entry goes (the others are kept).
    fewer = IVRHooks(["8000", "8999"], secret=SECRET, public_url=DEV_URL, env=False)

    @fewer.dtmf("1")
    async def sales(req: ActionRequest) -> object:
        return call("2001")

    assert fewer.name == app.name, "the same module: the same app"
    plan = _dev_plan(fewer, existing, _owner(fewer))
    assert [(d.id, d.reason) for d in plan.deletes] == [("d1", "the app no longer declares it")]


def test_expired_dev_entries_of_this_app_are_reaped_and_others_left_alone() -> None:
    app = _app(DEV_URL)
    owner = _owner(app)
    # Left by a crashed session at another public URL (another tunnel): the same module.
    crashed = _owner(_app("https://old-tunnel.example"), expires=NOW - 10)
    expired = _entries(_app("https://old-tunnel.example"), crashed, "x")
    # Another app's session, expired too: not this app's to delete.
    stranger = IVRHooks(["8999"], secret=SECRET, public_url=DEV_URL, env=False)

    @stranger.dtmf("7")
    async def other(req: ActionRequest) -> object:
        return call("2007")

    stranger.name = "someone_else"
    theirs = _entries(stranger, _owner(stranger, expires=NOW - 10), "s")
    hand = ActionUrl(id="h", name="crm", enabled=True, type="DTMF", dtmf_mask="9")
    plan = _dev_plan(app, [*expired, *theirs, hand], owner)
    assert sorted(d.id for d in plan.deletes) == ["x0", "x1"]
    assert all("a dev entry of this app, expired at" in d.reason for d in plan.deletes)
    assert len(plan.creates) == 2 and not plan.conflicts


def test_this_apps_production_entries_refuse_the_receptionist_unless_forced() -> None:
    production = _app(PROD_URL)
    prod_entries = [
        ActionUrl.model_validate({**w.body.model_dump(mode="json"), "id": f"p{i}"})
        for i, w in enumerate(desired_state(production.manifest())["8999"].values())
    ]
    app = _app(DEV_URL)
    plan = _dev_plan(app, prod_entries, _owner(app))
    [refusal] = plan.conflicts
    prod_id = production.manifest().app_id
    assert refusal.startswith("receptionist 8999: holds this app's production action URLs")
    assert f"'ivrhooks:sales@{prod_id}' (id p0)" in refusal and "--force" in refusal
    forced = _dev_plan(app, prod_entries, _owner(app, force=True))
    assert not forced.conflicts and len(forced.creates) == 2
    assert not forced.updates and not forced.deletes, "production's entries are never touched"
    assert len(forced.warnings) == 2
    assert all("this app's production entry" in w for w in forced.warnings)


def test_another_live_session_of_this_app_is_refused_unless_forced() -> None:
    elsewhere = _app("https://other-laptop.example")
    live = _entries(elsewhere, _owner(elsewhere, expires=NOW + 600), "o")
    app = _app(DEV_URL)
    [refusal] = _dev_plan(app, live, _owner(app)).conflicts
    assert "another `ivrhooks dev` session" in refusal and "--force" in refusal
    forced = _dev_plan(app, live, _owner(app, force=True))
    assert not forced.conflicts and sorted(d.id for d in forced.deletes) == ["o0", "o1"]


def test_another_apps_dev_entry_that_overlaps_is_a_conflict() -> None:
    stranger = IVRHooks(["8999"], secret=SECRET, public_url="https://x.example", env=False)

    @stranger.dtmf("1")
    async def theirs(req: ActionRequest) -> object:
        return call("2009")

    stranger.name = "someone_else"
    entries = _entries(stranger, _owner(stranger), "s")
    app = _app(DEV_URL)
    [conflict] = _dev_plan(app, entries, _owner(app)).conflicts
    assert "of another app" in conflict


def test_production_never_touches_dev_entries_and_only_warns_of_an_overlap() -> None:
    app = _app(PROD_URL)
    dev_app = _app(DEV_URL)
    dev = _entries(dev_app, _owner(dev_app), "d")
    expired = _entries(dev_app, _owner(dev_app, expires=NOW - 5), "e")
    desired = desired_state(app.manifest())["8999"]
    plan = plan_receptionist("8999", "ivr", desired, [*dev, *expired], app_id=app.manifest().app_id)
    # Its own entries are created beside them; none of the dev entries is updated or deleted.
    assert len(plan.creates) == 2 and not plan.updates and not plan.deletes
    # A conflict would stop `ivrhooks run`: a developer's session must never stop production.
    assert not plan.conflicts
    assert len(plan.warnings) == 4
    assert all("an `ivrhooks dev` session's entry" in w for w in plan.warnings)
    assert derive_app_id(app.name, DEV_URL) in plan.warnings[0]
