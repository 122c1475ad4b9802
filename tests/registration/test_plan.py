"""The pure steps: desired state from routes, and the plan against existing entries."""

from __future__ import annotations

from typing import Any

import pytest

from ivrhooks import ConfigurationError, call
from ivrhooks.core.auth import StaticCredentials
from ivrhooks.core.request import ActionRequest
from ivrhooks.registration.desired import DesiredUrl, desired_state, entry_name
from ivrhooks.registration.plan import changed_fields, plan_receptionist
from ivrhooks.schema.models import ActionUrl
from tests.registration.helpers import add_menu, new_app


def state_of(**options: Any) -> dict[str, dict[str, DesiredUrl]]:
    app = new_app(None, None, **options)
    add_menu(app)
    return desired_state(app.manifest())


def as_existing(desired: DesiredUrl, id: str, **changes: Any) -> ActionUrl:
    return ActionUrl.model_validate({**desired.body.model_dump(mode="json"), "id": id, **changes})


def test_desired_fields_for_each_route() -> None:
    state = state_of(public_url="https://ivr.example.com", method="GET", request_timeout=3)
    urls = state["8000"]
    assert list(urls) == ["ivrhooks:sales@test", "ivrhooks:accounts@test", "ivrhooks:vip@test"]
    sales = urls["ivrhooks:sales@test"].body
    assert sales.enabled is True
    assert str(sales.type) == "DTMF" and sales.dtmf_mask == "1;2" and sales.caller_mask == ""
    assert str(sales.method) == "GET"
    assert sales.url == "https://ivr.example.com/hooks/sales"
    assert str(sales.auth) == "BASIC"
    assert sales.username and sales.password and sales.token is None
    assert sales.connection_timeout == sales.request_timeout == 3
    vip = urls["ivrhooks:vip@test"].body
    assert str(vip.type) == "CALLER" and vip.caller_mask == "5550100" and vip.dtmf_mask == ""


@pytest.mark.parametrize(
    ("scheme", "auth", "has_user", "has_token"),
    [
        ("basic", "BASIC", True, False),
        ("digest", "DIGEST", True, False),
        ("bearer", "BEARER", False, True),
        ("none", "DISABLE", False, False),
    ],
    ids=["basic", "digest", "bearer", "none"],
)
def test_auth_mode_and_credentials(scheme: str, auth: str, has_user: bool, has_token: bool) -> None:
    app = new_app(None, None, auth=scheme, allow_no_auth=True)

    @app.dtmf("1")
    async def menu(req: ActionRequest) -> object:
        return call("1")

    body = desired_state(app.manifest())["8000"]["ivrhooks:menu@test"].body
    assert str(body.auth) == auth
    assert (body.username is not None, body.password is not None) == (has_user, has_user)
    assert (body.token is not None) == has_token


def test_long_mask_is_split_across_named_entries() -> None:
    app = new_app(None, None)
    mask = ";".join(str(n) for n in range(10000, 10100))  # 599 characters

    @app.dtmf(mask)
    async def many(req: ActionRequest) -> object:
        return call("1")

    urls = desired_state(app.manifest())["8000"]
    assert list(urls) == ["ivrhooks:many@test", "ivrhooks:many@test#2", "ivrhooks:many@test#3"]
    masks = [u.body.dtmf_mask or "" for u in urls.values()]
    assert all(len(m) <= 255 for m in masks)
    assert ";".join(masks) == mask


def test_static_credential_routes_are_not_registered() -> None:
    app = new_app(None, None)
    add_menu(app)

    @app.dtmf("9", credentials=StaticCredentials(username="handmade", password="handmade1"))
    async def manual(req: ActionRequest) -> object:
        return call("1")

    assert entry_name("manual", 1, "test") not in desired_state(app.manifest())["8000"]


def test_no_public_url_fails_naming_the_variable() -> None:
    app = new_app(None, None, public_url=None)
    add_menu(app)
    with pytest.raises(ConfigurationError, match="IVRHOOKS_PUBLIC_URL"):
        desired_state(app.manifest())


def test_url_longer_than_128_fails_naming_the_route() -> None:
    app = new_app(None, None, public_url="https://ivr.example.com/" + "x" * 100)
    add_menu(app)
    with pytest.raises(ConfigurationError, match=r"'sales'.*128"):
        desired_state(app.manifest())


def test_fresh_receptionist_gets_creates_only() -> None:
    desired = state_of()["8000"]
    plan = plan_receptionist("8000", "ivr1", desired, [], app_id="test")
    assert [c.name for c in plan.creates] == list(desired)
    assert plan.updates == () and plan.deletes == () and plan.writes == 3


def test_in_sync_makes_no_writes() -> None:
    desired = state_of()["8000"]
    existing = [as_existing(d, f"id{i}") for i, d in enumerate(desired.values())]
    plan = plan_receptionist("8000", "ivr1", desired, existing, app_id="test")
    assert plan.in_sync and plan.unchanged == 3


DRIFT = [
    ("enabled", False),
    ("method", "GET"),
    ("url", "http://elsewhere.example.com/x"),
    ("dtmf_mask", "1"),
    ("caller_mask", "123"),
    ("connection_timeout", 9),
    ("request_timeout", 9),
    ("auth", "DISABLE"),
    ("username", "someoneelse"),
    ("password", "wrongpassword"),
    ("headers", "X-A:1"),
]


@pytest.mark.parametrize(("field", "value"), DRIFT, ids=[f for f, _ in DRIFT])
def test_each_drifted_field_is_an_update_with_the_full_object(field: str, value: Any) -> None:
    desired = state_of()["8000"]
    sales = desired["ivrhooks:sales@test"]
    existing = [as_existing(sales, "id1", **{field: value})]
    desired_one = {"ivrhooks:sales@test": sales}
    plan = plan_receptionist("8000", "ivr1", desired_one, existing, app_id="test")
    assert len(plan.updates) == 1
    update = plan.updates[0]
    assert update.id == "id1" and update.changed == (field,)
    assert update.body.model_dump() == sales.body.model_dump()


def test_missing_password_alone_is_not_drift_except_during_rotation() -> None:
    sales = state_of()["8000"]["ivrhooks:sales@test"]
    hidden = as_existing(sales, "id1", password=None)
    assert changed_fields(sales.body, hidden) == ()
    assert changed_fields(sales.body, hidden, rewrite_hidden_secrets=True) == ("password",)


def test_duplicates_keep_the_lowest_id_whatever_the_order() -> None:
    desired = state_of()["8000"]
    sales = desired["ivrhooks:sales@test"]
    dupes = [as_existing(sales, i) for i in ("id3", "id1", "id2")]
    for order in (dupes, dupes[::-1]):
        plan = plan_receptionist(
            "8000", "ivr1", {"ivrhooks:sales@test": sales}, order, app_id="test"
        )
        assert sorted(d.id for d in plan.deletes) == ["id2", "id3"]
        assert all("duplicate of id1" in d.reason for d in plan.deletes)
        assert plan.creates == () and plan.updates == ()


def test_undeclared_managed_entries_are_deleted_and_hand_made_left_alone() -> None:
    desired = state_of()["8000"]
    sales = desired["ivrhooks:sales@test"]
    stale = as_existing(sales, "old", name="ivrhooks:gone@test")
    hand = ActionUrl(id="hand", name="crm", enabled=True, type="DTMF", dtmf_mask="7")
    plan = plan_receptionist(
        "8000", "ivr1", {"ivrhooks:sales@test": sales}, [stale, hand], app_id="test"
    )
    assert [(d.id, d.name) for d in plan.deletes] == [("old", "ivrhooks:gone@test")]
    assert plan.warnings == ()
    assert [c.name for c in plan.creates] == ["ivrhooks:sales@test"]


def test_hand_made_overlap_warns_naming_it() -> None:
    desired = state_of()["8000"]
    hand_dtmf = ActionUrl(id="h1", name="crm", enabled=True, type="DTMF", dtmf_mask="2;9")
    hand_caller = ActionUrl(
        id="h2", name="vips", enabled=True, type="CALLER", caller_mask="5550100"
    )
    disabled = ActionUrl(id="h3", name="off", enabled=False, type="DTMF", dtmf_mask="1")
    plan = plan_receptionist(
        "8000", "ivr1", desired, [hand_dtmf, hand_caller, disabled], app_id="test"
    )
    assert len(plan.warnings) == 2
    dtmf_warning, caller_warning = plan.warnings
    assert "'crm'" in dtmf_warning and "'sales'" in dtmf_warning and "'2'" in dtmf_warning
    assert "'vips'" in caller_warning and "'vip'" in caller_warning
    assert "5550100" not in caller_warning  # a caller number never reaches a log line
    assert all(d.id not in ("h1", "h2", "h3") for d in plan.deletes)
