"""Declaring routes: names, receptionists, invalid masks and overlap refusal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ivrhooks import (
    ActionRequest,
    ConfigurationError,
    IVRHooks,
    MaskError,
    RouteConflictError,
    ServingConfig,
)
from ivrhooks.core.request import Handler
from tests.conftest import new_app


async def handler(req: ActionRequest) -> object:
    return "100"


def named(name: str) -> Handler:
    async def f(req: ActionRequest) -> object:
        return "100"

    f.__name__ = name
    return f


@pytest.mark.parametrize(
    ("first", "second", "shared"),
    [
        ("1;2", "2;3", "2"),
        ("3000-4000", "3500", "3500"),
        ("3000-4000", "3999-5000", None),
        ("55*1", "5500-5599", None),
        ("ALL", "7", "7"),
    ],
    ids=["exact", "range-exact", "range-range", "star-range", "all"],
)
def test_overlapping_dtmf_routes_are_refused_naming_both_and_an_input(
    first: str, second: str, shared: str | None
) -> None:
    app = new_app()
    app.dtmf(first)(named("first"))
    with pytest.raises(RouteConflictError) as caught:
        app.dtmf(second)(named("second"))
    message = str(caught.value)
    assert "'first'" in message and "'second'" in message and "8000" in message
    if shared is not None:
        assert repr(shared) in message
    assert [r.name for r in app.routes] == ["first"], "a refused route leaves no state behind"


def test_same_mask_on_other_kind_or_receptionist_is_fine() -> None:
    app = IVRHooks(receptionists=["8000", "8001"])
    app.dtmf("1", receptionists=["8000"])(named("a"))
    app.dtmf("1", receptionists=["8001"])(named("b"))
    app.caller("1000-1999")(named("c"))
    app.dtmf("1000-1999", receptionists=["8001"])(named("d"))
    assert [r.name for r in app.routes] == ["a", "b", "c", "d"]
    assert app.table.all_receptionists() == ("8000", "8001")


def test_overlap_is_rechecked_when_receptionists_change() -> None:
    app = IVRHooks(receptionists=["8000"], env={"IVRHOOKS_RECEPTIONISTS": "8001"})
    app.dtmf("1", receptionists=["8001"])(named("a"))
    app.dtmf("1")(named("b"))
    with pytest.raises(RouteConflictError):
        app.manifest()
    assert app.table.receptionists == ("8000",), "the declared table is left as it was"


@pytest.mark.parametrize(
    "mask",
    ["", "1;;2", "1;", "12a", "4000-3000", "1;1", "1000-2000;1500"],
    ids=["empty", "empty-entry", "trailing", "non-digit", "reversed", "duplicate", "inner-overlap"],
)
def test_invalid_masks_fail_at_decoration_time(mask: str) -> None:
    app = new_app()
    with pytest.raises(MaskError):
        app.dtmf(mask)
    assert app.routes == []


def test_all_is_dtmf_only() -> None:
    with pytest.raises(MaskError, match="ALL"):
        new_app().caller("ALL")


@pytest.mark.parametrize(
    ("name", "message"),
    [("Sales Menu", "must be 1-48"), ("x" * 49, "must be 1-48"), ("-x", "must be 1-48")],
    ids=["space", "too-long", "leading-dash"],
)
def test_bad_route_names(name: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        new_app().dtmf("1", name=name)(handler)


def test_function_names_are_lower_cased_and_must_be_unique() -> None:
    app = new_app()
    app.dtmf("1")(named("Sales"))
    assert app.routes[0].name == "sales"
    with pytest.raises(ConfigurationError, match="two routes are named 'sales'"):
        app.dtmf("2")(named("sales"))
    app.dtmf("2", name="sales-2")(named("sales"))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (lambda: {"receptionists": "8000"}, "pass a list"),
        (lambda: {"receptionists": ["80"]}, "3 to 64 digits"),
        (lambda: {"receptionists": [8000]}, "3 to 64 digits"),
        (lambda: {"serving": ServingConfig(deadline=2.5)}, "below the PBX's request_timeout"),
        (lambda: {"serving": ServingConfig(deadline=0)}, r"ServingConfig\(deadline=0\): .*above 0"),
        (lambda: {"serving": ServingConfig(path_prefix="hooks/")}, "start it with '/'"),
    ],
    ids=["string", "short", "int", "deadline-too-long", "deadline-zero", "prefix"],
)
def test_bad_app_configuration_says_what_to_change(
    kwargs: Callable[[], dict[str, Any]], message: str
) -> None:
    # Found when the code runs (a bad argument) or at the latest when the app starts.
    with pytest.raises(ConfigurationError, match=message):
        IVRHooks(env=False, **kwargs()).build()


def test_a_route_needs_a_receptionist() -> None:
    app = IVRHooks(env=False)
    app.dtmf("1")(handler)  # IVRHOOKS_RECEPTIONISTS may still give it one at startup
    with pytest.raises(ConfigurationError, match="serves no receptionist"):
        app.build()
    from_env = IVRHooks(env={"IVRHOOKS_RECEPTIONISTS": "8000"})
    from_env.dtmf("1")(handler)
    assert from_env.manifest().routes[0].receptionists == ("8000",)
    app.dtmf("2", receptionists=["8000"], name="two")(handler)
    with pytest.raises(ConfigurationError, match="'handler'"):
        app.build()


def test_only_one_fallback() -> None:
    app = new_app()
    app.fallback(handler)
    with pytest.raises(ConfigurationError, match="only one"):
        app.fallback(handler)
