"""The quickstart, through the pytest plugin the way a user tests their own app:
registered on a fake PBX over loopback, then called."""

from __future__ import annotations

from pathlib import Path

import pytest

from ivrhooks import IVRHooks
from ivrhooks.cli.loader import load_app
from ivrhooks.testing import FakePBX

EXAMPLE = str(Path(__file__).parents[2] / "examples" / "quickstart.py")


@pytest.fixture(scope="module")
def ivrhooks_app() -> IVRHooks:
    return load_app(EXAMPLE)


@pytest.mark.parametrize(
    ("caller", "digits", "action", "destination", "route"),
    [
        ("101", "1", "call", "2001", "ivrhooks:sales"),
        ("101", "2", "call", "2002", "ivrhooks:support"),
        ("101", "9", "hangup", None, "ivrhooks:goodbye"),
        ("101", "3123", "call", "2123", "ivrhooks:account"),
        ("101", "4500", "call", "2100", "ivrhooks:account"),
        ("5551234", "", "call", "2900", "ivrhooks:vip"),
        ("+5550007", "", "call", "2900", "ivrhooks:vip"),
    ],
    ids=["sales", "support", "goodbye", "account-desk", "accounts", "vip", "vip-pattern-plus"],
)
async def test_menu(
    ivrhooks_pbx: FakePBX,
    caller: str,
    digits: str,
    action: str,
    destination: str | None,
    route: str,
) -> None:
    result = await ivrhooks_pbx.dial(to="8000", caller=caller, digits=digits)
    assert result.error is None and result.status == 200
    assert result.action_url is not None
    # Named by route and by the app that owns it: ivrhooks:<route>@<app id>.
    assert str(result.action_url.name).partition("@")[0] == route
    assert (result.action, result.destination) == (action, destination)


async def test_input_outside_every_mask_fires_nothing(ivrhooks_pbx: FakePBX) -> None:
    result = await ivrhooks_pbx.dial(to="8000", caller="101", digits="5")
    assert not result.matched, "no action URL: the receptionist's own menu handles it"
