"""The call-flow map as the page receives it: receptionists, routes, targets and where from."""

from __future__ import annotations

from typing import Any

import pytest

from ivrhooks import ActionRequest, IVRHooks, call, repeat
from ivrhooks.fakepbx.devui.flowmap import FlowMaps
from ivrhooks.observe.journal import CallRecord


def _map(app: IVRHooks, records: list[CallRecord] | None = None) -> dict[str, Any]:
    return FlowMaps().build(app.manifest(app.configure({})), records or [])


def _record(route: str, destination: str | None, **fields: Any) -> CallRecord:
    values: dict[str, Any] = {
        "session_id": "s",
        "receptionist": "8000",
        "caller": "101",
        "digits": "3123",
        "route": route,
        "kind": "DTMF",
        "action": "call" if destination else "repeat",
        "destination": destination,
        "answered_by": "route",
    }
    return CallRecord(**{**values, **fields})


def test_the_quickstart_map_lists_every_route_with_where_it_leads() -> None:
    from quickstart import app

    shown = _map(app)
    [lane] = shown["receptionists"]
    assert lane["number"] == "8000"
    rows = {
        r["name"]: (r["kind"], r["mask"], r["handler"], r["scheme"], _targets(r))
        for r in lane["routes"]
    }
    assert rows == {
        "sales": ("DTMF", "1", "sales", "basic", [("number", "2001", ["code"])]),
        "support": ("DTMF", "2", "support", "basic", [("number", "2002", ["code"])]),
        "goodbye": ("DTMF", "9", "goodbye", "basic", [("hangup", None, ["code"])]),
        "account": (
            "DTMF",
            "3000-4999",
            "account",
            "basic",
            [("computed", None, ["code"]), ("number", "2100", ["code"])],
        ),
        "vip": ("CALLER", "5551234;555000*", "vip", "basic", [("number", "2900", ["code"])]),
    }
    sales = lane["routes"][0]
    assert sales["where"].endswith("quickstart.py:25") and sales["path"] == "/hooks/sales"
    assert sales["example"] == "1"
    assert shown["fallback"]["handler"] == "default"
    assert _targets(shown["fallback"]) == [("repeat", None, ["code"])]


def _targets(shown: dict[str, Any]) -> list[tuple[str, str | None, list[str]]]:
    return [(t["kind"], t["number"], t["sources"]) for t in shown["targets"]]


def _two_receptionists() -> IVRHooks:
    app = IVRHooks(receptionists=["8000"], env=False)

    @app.dtmf("3000-3999")
    async def account(req: ActionRequest) -> object:
        return call("8001")  # the PIN receptionist of this app: an edge

    @app.dtmf("ALL", receptionists=["8001"], auth="digest")
    async def pin(req: ActionRequest) -> object:
        return call(req.digits) if req.digits.startswith("2") else repeat()

    return app


def test_a_forward_to_another_receptionist_of_the_app_is_an_edge() -> None:
    shown = _map(_two_receptionists())
    lanes = {lane["number"]: lane["routes"] for lane in shown["receptionists"]}
    assert list(lanes) == ["8000", "8001"]
    assert [(r["name"], _targets(r)) for r in lanes["8000"]] == [
        ("account", [("receptionist", "8001", ["code"])])
    ]
    [pin] = lanes["8001"]
    assert pin["scheme"] == "digest"
    assert _targets(pin) == [("computed", None, ["code"]), ("repeat", None, ["code"])]
    assert shown["fallback"] is None


@pytest.mark.parametrize(
    ("records", "pin_targets", "fallback_seen"),
    [
        pytest.param([], [("computed", None, ["code"]), ("repeat", None, ["code"])], [], id="none"),
        pytest.param(
            [
                _record("pin", "2123", receptionist="8001"),
                _record("pin", "2123", receptionist="8001"),
                _record("pin", None, receptionist="8001"),
            ],
            [
                ("computed", None, ["code"]),
                ("repeat", None, ["code", "seen"]),
                ("number", "2123", ["seen"]),
            ],
            [],
            id="seen-once-each",
        ),
        pytest.param(
            [_record("pin", "2500", receptionist="8000")],  # on another receptionist
            [("computed", None, ["code"]), ("repeat", None, ["code"])],
            [],
            id="other-receptionist",
        ),
        pytest.param(
            [
                _record("pin", "0", receptionist="8001", answered_by="fallback", cause="error"),
                _record("pin", None, receptionist="8001", answered_by="default", cause="error"),
            ],
            [("computed", None, ["code"]), ("repeat", None, ["code"])],
            [("number", "0", ["seen"])],
            id="fallback-not-the-route",
        ),
    ],
)
def test_decisions_seen_in_calls_join_the_map(
    records: list[CallRecord], pin_targets: list[Any], fallback_seen: list[Any]
) -> None:
    app = _two_receptionists()

    @app.fallback
    def operator(req: ActionRequest) -> object:
        return call(req.digits)

    shown = _map(app, list(reversed(records)))  # the journal lists newest first
    lanes = {lane["number"]: lane["routes"] for lane in shown["receptionists"]}
    assert _targets(lanes["8001"][0]) == pin_targets
    assert _targets(shown["fallback"]) == [("computed", None, ["code"]), *fallback_seen]
