"""After each call it places, the fake PBX posts the call's CDR and extension events to the
tenant's event URLs, as PortSIP's event reference has them, with their auth, in the background,
retried as PortSIP retries them, and with the trouble EventFaults asks for."""

from __future__ import annotations

import asyncio
import base64
import random
from typing import Any

import pytest

from ivrhooks.events import CallCDR, parse_event
from ivrhooks.fakepbx.targets import Targets
from ivrhooks.fakepbx.webhooks import EventFaults
from ivrhooks.testing import FakePBX
from tests.events.receiver import PASSWORD, TOKEN, USER, Receiver, fake_pbx, receiving
from tests.ports import refused_port

BASIC = {"auth": "BASIC", "username": USER, "password": PASSWORD}
DIGEST = {"auth": "DIGEST", "username": USER, "password": PASSWORD}


def _listen(pbx: FakePBX, receiver: Receiver, cdr: str = "basic", ext: str = "digest") -> None:
    auth = {"basic": BASIC, "digest": DIGEST, "bearer": {"auth": "BEARER", "token": TOKEN}}
    pbx.set_event_url("cdr", f"{receiver.url}/events/{cdr}/cdr", **auth[cdr])
    pbx.set_event_url("extension", f"{receiver.url}/events/{ext}/extension", **auth[ext])


def _steps(receiver: Receiver) -> list[str]:
    """What arrived, in order: the event type (the call status for extension_call)."""
    shown = []
    for body in receiver.bodies():
        if body["event_type"] == "extension_call":
            shown.append(f"extension_call {body['call_status'] or '-'}")
        else:
            shown.append(body["event_type"])
    return shown


SEQUENCES = {
    "answered": [
        "call_start",
        "call_update_info",
        "cdr_target_add",
        "cdr_target_ringing",
        "extension_call RINGING",
        "cdr_target_answer",
        "extension_call ON_CALL",
        "cdr_target_end",
        "extension_call -",
        "call_cdr",
    ],
    "busy": ["call_start", "call_update_info", "cdr_target_add", "cdr_target_fail", "call_cdr"],
    "offline": ["call_start", "call_update_info", "cdr_target_add", "cdr_target_fail", "call_cdr"],
    "noanswer": [
        "call_start",
        "call_update_info",
        "cdr_target_add",
        "cdr_target_ringing",
        "extension_call RINGING",
        "cdr_target_noanswer",
        "extension_call -",
        "call_cdr",
    ],
    "hung up at the receptionist": ["call_start", "call_cdr"],
}


@pytest.mark.parametrize(
    ("digits", "name", "target", "status", "code", "reason"),
    [
        ("1", "answered", "2001", "answered", 0, "callee_disconnected"),
        ("2", "busy", "2002", "fail", 486, None),
        ("3", "offline", "2003", "fail", 480, None),
        ("4", "noanswer", "2004", "noanswer", 487, None),
        ("5", "hung up at the receptionist", "8000", "answered", 0, "callee_disconnected"),
    ],
)
@pytest.mark.parametrize("auth", ["basic", "digest"])
async def test_a_forwarded_call_sends_the_documented_sequence(
    auth: str,
    digits: str,
    name: str,
    target: str,
    status: str,
    code: int,
    reason: str | None,
) -> None:
    async with receiving() as receiver:
        pbx = fake_pbx(receiver)
        _listen(pbx, receiver, cdr=auth, ext=auth)
        result = await pbx.dial("8000", "101", digits, "Desk 101")
        sent = await pbx.events_sent()

    assert _steps(receiver) == SEQUENCES[name]
    assert all(s.delivered and s.attempt == 1 and not s.copy for s in sent)
    # Every event under the session id the action URL got (the fake's choice).
    [decided] = receiver.decided
    cdr_bodies = receiver.bodies("cdr")
    assert {b["session_id"] for b in cdr_bodies} == {decided["session_id"]}
    assert result.fields["session_id"] == decided["session_id"]
    assert all(s.call == decided["session_id"] for s in sent)
    # Each request carried the URL's credentials.
    headers = [h.headers["authorization"] for h in receiver.hits]
    if auth == "basic":
        token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        assert set(headers) == {f"Basic {token}"}
    else:
        assert all(h.startswith(f'Digest username="{USER}"') for h in headers)
    assert all(h.headers["content-type"] == "application/json" for h in receiver.hits)

    cdr = parse_event("cdr", cdr_bodies[-1])
    assert isinstance(cdr, CallCDR)
    assert (cdr.call_status, cdr.status_code, cdr.ended_reason) == (status, code, reason)
    assert [t.target for t in cdr.targets] == (["8000"] if target == "8000" else ["8000", target])
    outcome = pbx.call_outcome(decided["session_id"])
    assert outcome is not None and outcome.status == status
    assert outcome.target == (None if target == "8000" else target)
    extension_numbers = {b["extension"] for b in receiver.bodies("extension")}
    assert extension_numbers <= {f"sip:{target}@fakepbx.test"}


async def test_the_fake_sends_the_documented_spellings_and_types() -> None:
    """What PortSIP's event reference and its example show, irregularities included, so a
    receiver is tested against them: destiantion (sic) in target events; in call_cdr
    status_code a string at the top and an integer in the targets, talk_duration the other way
    round, id (not cdr_id) and end_reason in the targets, ended_reason at the top, times as
    strings, the call_cdr table's direction words; "None" as an unknown reason."""
    async with receiving() as receiver:
        pbx = fake_pbx(receiver)
        _listen(pbx, receiver)
        await pbx.dial("8000", "101", "1")
        await pbx.events_sent()
    bodies = receiver.bodies("cdr")
    targets = [b for b in bodies if b["event_type"].startswith("cdr_target_")]
    assert targets and all(b["destiantion"] == "sip:2001@fakepbx.test" for b in targets)
    assert not [b for b in targets if "destination" in b]
    assert {b["direction"] for b in bodies if b["event_type"] != "call_cdr"} == {"internal"}
    cdr = bodies[-1]
    assert (cdr["direction"], cdr["status_code"], cdr["ended_reason"]) == (
        "ext",
        "0",
        "callee_disconnected",
    )
    assert isinstance(cdr["talk_duration"], int) and isinstance(cdr["start_time"], str)
    assert "time" not in cdr and "end_reason" not in cdr
    leg = cdr["call_targets"][-1]
    assert isinstance(leg["status_code"], int) and isinstance(leg["talk_duration"], str)
    assert "id" in leg and "cdr_id" not in leg and leg["end_reason"] == "None"
    assert "ended_reason" not in leg and leg["destination"] == "sip:2001@fakepbx.test"


async def test_a_call_across_receptionists_lists_each_leg() -> None:
    async with receiving() as receiver:
        pbx = fake_pbx(receiver, extensions={"2001": "answer"})
        _listen(pbx, receiver, cdr="bearer", ext="bearer")
        flow = await pbx.call("8000", "+4930123456", ["6", "1"])
        await pbx.events_sent()
    assert {h.headers["authorization"] for h in receiver.hits} == {f"Bearer {TOKEN}"}
    cdr = parse_event("cdr", receiver.bodies("cdr")[-1])
    assert isinstance(cdr, CallCDR) and cdr.session_id == flow.session_id
    assert [(t.target, t.status, t.end_reason) for t in cdr.targets] == [
        ("8000", "answered", "referred"),
        ("8001", "answered", "referred"),
        ("2001", "answered", None),
    ]
    # A caller from outside (not an extension's number) came in through a trunk.
    assert (cdr.direction, cdr.raw["direction"], cdr.did) == ("inbound", "in", "8000")


async def test_events_are_sent_in_the_background() -> None:
    """The action URL's answer never waits for events: the call returns while the event URL
    holds every event request."""
    async with receiving() as receiver:
        receiver.hold = asyncio.Event()
        pbx = fake_pbx(receiver)
        _listen(pbx, receiver)
        # Bounded: a call that waited for its events would wait for ever here.
        result = await asyncio.wait_for(pbx.dial("8000", "101", "1"), 30)
        assert (result.action, result.destination) == ("call", "2001")
        assert pbx.events == [] and receiver.hits == []
        receiver.hold.set()
        sent = await pbx.events_sent()
    assert len(sent) == len(SEQUENCES["answered"]) == len(receiver.hits)


async def test_a_calls_events_share_one_connection() -> None:
    """One HTTP client while events are being sent (not one per event: each would build a TLS
    context on the loop that answers calls), closed when the last is done."""
    async with receiving() as receiver:
        pbx = fake_pbx(receiver)
        pbx.set_event_url("cdr", receiver.url + "/events/cdr")
        pbx.set_event_url("extension", receiver.url + "/events/extension")
        await pbx.dial("8000", "101", "1")
        await pbx.events_sent()
        assert pbx.webhooks.sender._client is None, "closed once idle"
        await pbx.dial("8000", "101", "1")
        await pbx.events_sent()
    first, second = receiver.hits[:10], receiver.hits[10:]
    assert len({h.peer for h in first}) == 1 and len({h.peer for h in second}) == 1


async def test_no_event_url_no_events() -> None:
    async with receiving() as receiver:
        pbx = fake_pbx(receiver)
        pbx.set_event_url("cdr", receiver.url + "/events/cdr", enabled=False)
        result = await pbx.dial("8000", "101", "1")
        assert await pbx.events_sent() == []
    assert receiver.hits == [] and pbx.call_outcome(result.fields["session_id"]) is None


async def test_only_the_enabled_url_gets_its_events() -> None:
    async with receiving() as receiver:
        pbx = fake_pbx(receiver)
        pbx.set_event_url("extension", receiver.url + "/events/extension")
        await pbx.dial("8000", "101", "1")
        await pbx.events_sent()
    assert {h.kind for h in receiver.hits} == {"extension"}
    assert len(receiver.hits) == 3


@pytest.mark.parametrize(
    ("answers", "statuses"),
    [
        pytest.param([503, 500], [503, 500, 200], id="retried-until-200"),
        pytest.param([201], [201, 200], id="only-200-acknowledges"),
        pytest.param([404], [404], id="404-stops-the-retries"),
        pytest.param([503] * 6, [503] * 6, id="given-up-after-five-retries"),
    ],
)
async def test_anything_but_200_is_retried_until_a_404(
    answers: list[int], statuses: list[int]
) -> None:
    async with receiving() as receiver:
        receiver.answers["call_start"] = list(answers)
        pbx = fake_pbx(receiver, event_retry_waits=(0.0,) * 5)
        pbx.set_event_url("cdr", receiver.url + "/events/cdr")
        await pbx.dial("8000", "101", "5")  # call_start, then call_cdr
        sent = await pbx.events_sent()
    starts = [s for s in sent if s.event_type == "call_start"]
    assert [s.status for s in starts] == statuses
    assert [s.attempt for s in starts] == list(range(1, len(statuses) + 1))
    # A retried event does not hold the next one back: call_cdr went out before the retry.
    if len(statuses) > 1:
        order = [h.body["event_type"] for h in receiver.hits]
        assert order[:2] == ["call_start", "call_cdr"], order


async def test_an_event_url_nobody_answers() -> None:
    pbx = FakePBX()
    pbx.add_ivr("8000", "Main")
    with refused_port() as port:
        pbx.set_event_url("cdr", f"http://127.0.0.1:{port}/events")
        await pbx.dial("8000", "101")
        sent = await pbx.events_sent()
    assert [s.error for s in sent if s.event_type == "call_start"] == ["connection refused"] * 6


async def test_events_go_only_where_calls_may() -> None:
    async with receiving() as receiver:
        pbx = FakePBX(targets=Targets(loopback=False, bases=("http://app.test",)))
        pbx.add_ivr("8000", "Main")
        pbx.set_event_url("cdr", receiver.url + "/events/cdr")
        await pbx.dial("8000", "101")
        sent = await pbx.events_sent()
    assert receiver.hits == []
    assert [s.status for s in sent] == [None, None]
    assert all(s.error and s.error.startswith("not sent: ") for s in sent)


async def test_faults_duplicate_every_event() -> None:
    async with receiving() as receiver:
        pbx = fake_pbx(receiver, event_faults=EventFaults(duplicate=1.0))
        _listen(pbx, receiver)
        await pbx.dial("8000", "101", "1")
        sent = await pbx.events_sent()
    bodies = receiver.bodies()
    assert len(bodies) == 2 * len(SEQUENCES["answered"])
    assert bodies[0::2] == bodies[1::2], "each event followed by its copy"
    assert [s.copy for s in sent] == [False, True] * len(SEQUENCES["answered"])


async def test_faults_duplicate_some_events_by_chance() -> None:
    async with receiving() as receiver:
        faults = EventFaults(duplicate=0.5, rng=random.Random(7))
        pbx = fake_pbx(receiver, event_faults=faults)
        _listen(pbx, receiver)
        for _ in range(3):
            await pbx.dial("8000", "101", "1")
        sent = await pbx.events_sent()
    copies = sum(s.copy for s in sent)
    print(f"duplicate=0.5: {copies} copies among {len(sent)} events")
    assert 0 < copies < len(sent) - copies


async def test_faults_reorder_a_calls_events() -> None:
    async with receiving() as receiver:
        pbx = fake_pbx(receiver, event_faults=EventFaults(reorder=True, rng=random.Random(1)))
        _listen(pbx, receiver)
        await pbx.dial("8000", "101", "1")
        await pbx.events_sent()
    got = _steps(receiver)
    print("reordered:", got)
    assert got != SEQUENCES["answered"] and sorted(got) == sorted(SEQUENCES["answered"])


async def test_faults_delay_events_not_the_call() -> None:
    async with receiving() as receiver:
        pbx = fake_pbx(receiver, event_faults=EventFaults(delay=3600.0))
        _listen(pbx, receiver)
        result = await pbx.dial("8000", "101", "1")
        assert result.status == 200, "the call was answered at once"
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(asyncio.shield(pbx.events_sent()), 0.2)
        assert pbx.events == [] and receiver.hits == []
        await pbx.stop_events()
        assert await pbx.events_sent() == []


@pytest.mark.parametrize(
    ("faults", "problem"),
    [
        ({"duplicate": 1.5}, "EventFaults.duplicate: a probability, from 0 to 1"),
        ({"duplicate": -0.1}, "EventFaults.duplicate"),
        ({"delay": -1.0}, "EventFaults.delay: seconds, 0 or more"),
    ],
)
def test_faults_are_checked(faults: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        EventFaults(**faults)


@pytest.mark.parametrize(
    ("extensions", "problem"),
    [
        ({"2002": "bored"}, "extensions: 'bored' is not one of answer, busy, noanswer, offline"),
        ({"2002": 3}, r"extensions\['2002'\]: a state"),
    ],
)
def test_extensions_are_checked(extensions: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        FakePBX(extensions=extensions)


async def test_an_extension_tells_its_state_and_presence() -> None:
    async with receiving() as receiver:
        pbx = fake_pbx(receiver)
        _listen(pbx, receiver)
        assert pbx.set_extension("2001", "busy") == 1
        assert pbx.set_extension("2001", presence="DO_NOT_DISTURB") == 1
        await pbx.dial("8000", "101", "1")  # 2001 is busy now
        await pbx.events_sent()
    status, presence = receiver.bodies("extension")
    state = parse_event("extension", status)
    assert (state.type, state.availability) == ("extension_status", "busy")  # type: ignore[union-attr]
    said = parse_event("extension", presence)
    assert (said.type, said.availability) == ("extension_presence", "dnd")  # type: ignore[union-attr]
    cdr = parse_event("cdr", receiver.bodies("cdr")[-1])
    assert isinstance(cdr, CallCDR) and cdr.call_status == "fail" and cdr.status_code == 486
    assert all(s.call is None for s in pbx.events if s.kind == "extension")
