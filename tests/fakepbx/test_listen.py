"""``FakePBX.listen``: every hop of every call, as it happens, whoever placed the call."""

from __future__ import annotations

from ivrhooks import IVRHooks, call
from ivrhooks.core.request import ActionRequest
from ivrhooks.fakepbx import DialResult
from ivrhooks.testing import running


def _menu() -> IVRHooks:
    app = IVRHooks(receptionists=["8000"], env=False)

    @app.dtmf("3000-3999")
    async def account(req: ActionRequest) -> object:
        return call("8001")

    @app.dtmf("1", receptionists=["8001"])
    async def pin(req: ActionRequest) -> object:
        return call("2001")

    return app


def _seen(heard: list[DialResult]) -> list[tuple[str, str, str | None]]:
    return [(h.fields["to"], h.fields["input"], h.destination) for h in heard]


async def test_listeners_hear_each_hop_of_a_followed_call_and_the_input_nothing_takes() -> None:
    heard: list[DialResult] = []
    async with running(_menu()) as harness:
        stop = harness.pbx.listen(heard.append)
        flow = await harness.pbx.call("8000", "101", ["3123", "1"])
        nothing = await harness.pbx.call("8000", "101", ["3123", "7"])
        one = await harness.pbx.dial("8000", "101", "9")
        stop()
        await harness.pbx.dial("8000", "101", "3123")
    assert _seen(heard) == [
        ("8000", "3123", "8001"),
        ("8001", "1", "2001"),
        ("8000", "3123", "8001"),
        ("8001", "7", None),  # no action URL takes 7 at 8001: told, though nothing fired
        ("8000", "9", None),
    ]
    assert heard[:2] == flow.hops and heard[2:4] == nothing.hops and heard[4] is one
    assert {h.fields["session_id"] for h in heard[:2]} == {flow.session_id}
