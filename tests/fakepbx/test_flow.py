"""The fake PBX follows a call across receptionists under one session id."""

from __future__ import annotations

from ivrhooks import IVRHooks, call, repeat
from ivrhooks.core.request import ActionRequest
from ivrhooks.testing import running

SESSIONS: list[str | None] = []


def _menu() -> IVRHooks:
    app = IVRHooks(receptionists=["8000"], env=False)

    @app.caller("5550100")
    async def vip(req: ActionRequest) -> object:
        SESSIONS.append(req.session_id)
        return call("8001")  # straight to the PIN prompt

    @app.dtmf("3000-3999")
    async def account(req: ActionRequest) -> object:
        SESSIONS.append(req.session_id)
        return call("8001")  # the PIN receptionist

    @app.dtmf("ALL", receptionists=["8001"])
    async def pin(req: ActionRequest) -> object:
        SESSIONS.append(req.session_id)
        return call("2001") if req.digits == "1234" else repeat()

    return app


async def test_a_call_is_followed_through_forwards_and_replays() -> None:
    SESSIONS.clear()
    async with running(_menu()) as harness:
        flow = await harness.pbx.call("8000", "101", ["3123", "9999", "1234", "5"])
    hops = [(h.fields["to"], h.fields["input"], h.action, h.destination) for h in flow.hops]
    assert hops == [
        ("8000", "3123", "call", "8001"),
        ("8001", "9999", "repeat", None),  # a wrong PIN: the same prompt again
        ("8001", "1234", "call", "2001"),  # 2001 is no receptionist: the call leaves
    ]
    assert flow.unused == ["5"]
    assert len(set(SESSIONS)) == 1 and SESSIONS[0] == flow.session_id


async def test_a_caller_route_fires_on_arrival_and_input_no_route_takes_ends_the_call() -> None:
    async with running(_menu()) as harness:
        flow = await harness.pbx.call("8000", "5550100", ["77"])
        nothing = await harness.pbx.call("8000", "101", ["5", "6"])
    assert [(h.fields["to"], h.action) for h in flow.hops] == [
        ("8000", "call"),  # CALLER on arrival at 8000
        ("8001", "repeat"),  # then 77 keyed at the PIN prompt
    ]
    assert [h.matched for h in nothing.hops] == [False], "the receptionist's own menu takes it"
    assert nothing.unused == ["6"]
