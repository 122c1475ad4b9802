"""The behaviour file ``ivrhooks probe`` writes, loaded by ``ivrhooks fake-pbx --behaviour``:
the fake PBX's next requests are shaped as recorded and it reacts to failures as recorded;
and a fake replaying a build is probed as that build (the file comes back as it went in)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from ivrhooks.fakepbx import DEFAULT_PASSWORD, DEFAULT_USERNAME
from ivrhooks.fakepbx.remote import place_call
from ivrhooks.pbx import PBXClient
from ivrhooks.testing import serve
from tests.probe.processes import RECEPTIONIST, fake_pbx_with, receptionist_id, run_probe
from tests.probe.recorder import Recorder


@pytest.fixture
async def recorder() -> AsyncIterator[tuple[Recorder, str]]:
    app = Recorder()
    async with serve(app, lifespan="off") as base:
        yield app, base


def _probe(pbx: str, out: Path, *args: str, receptionist: str = RECEPTIONIST) -> dict[str, Any]:
    args = ("--self-dial", "--request-timeout", "1", *args)
    done = run_probe(pbx, out, *args, receptionist=receptionist)
    assert done.returncode == 0, done.stdout + done.stderr
    report: dict[str, Any] = json.loads((out / "report.json").read_text())
    return report


async def test_the_fake_sends_and_reacts_as_the_file_recorded(
    tmp_path: Path, recorder: tuple[Recorder, str], shared_pbx: str, receptionist: str
) -> None:
    # Recorded on the probe's tests' fake PBX (tests/probe/conftest.py), on a receptionist of
    # this test's own; the recording is replayed below by a fake PBX of its own.
    steps = ("--steps", "hangup,status-500")
    await asyncio.to_thread(_probe, shared_pbx, tmp_path, *steps, receptionist=receptionist)
    recorded = json.loads((tmp_path / "behaviour.json").read_text())
    shape = recorded["requests"]["POST"]
    assert shape["fields"][0] == "session_id" and shape["content_type"] == "application/json"
    assert recorded["reactions"] == {"status": {"retries": 0, "delay": 0.0, "then": "end"}}
    # As a real build might differ from httpx: another client, another Content-Type, fields in
    # another order, and a resend then a prompt after a 500.
    shape["headers"] = [["user-agent", "PortSIP-VR/22.6.1"], ["accept", "*/*"]]
    shape["content_type"] = "text/plain; charset=utf-8"
    shape["fields"] = list(reversed(shape["fields"]))
    recorded["reactions"]["status"] = {"retries": 1, "delay": 0.0, "then": "prompt"}
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(recorded))

    app, base = recorder
    with fake_pbx_with("--behaviour", str(edited)) as pbx:
        async with PBXClient(pbx, username=DEFAULT_USERNAME, password=DEFAULT_PASSWORD) as c:
            ivr_id = await receptionist_id(c)
            fields = {"type": "DTMF", "method": "POST", "dtmf_mask": "ALL", "url": base + "/hook"}
            await c.action_urls.create(ivr_id, name="recorder", enabled=True, **fields)
        result = await asyncio.to_thread(
            place_call, pbx, to=RECEPTIONIST, caller="101", digits=["1", "2"]
        )
    # The 500, its resend, then (the prompt played again) the next keys; one session.
    bodies = [json.loads(r["body"]) for r in app.requests]
    assert [b["input"] for b in bodies] == ["1", "1", "2"]
    assert len({b["session_id"] for b in bodies}) == 1
    assert [h["input"] for h in result["hops"]] == ["1", "2"]
    for request in app.requests:
        sent = [(k, v) for k, v in request["headers"] if k not in ("host", "content-length")]
        assert sent == [
            ("user-agent", "PortSIP-VR/22.6.1"),
            ("accept", "*/*"),
            ("content-type", "text/plain; charset=utf-8"),
        ]
        assert list(json.loads(request["body"])) == shape["fields"]
        assert b'","' in request["body"], "compact separators, as recorded"


async def test_a_fake_replaying_a_build_is_probed_as_that_build(tmp_path: Path) -> None:
    reactions = {
        "status": {"retries": 1, "delay": 0.0, "then": "prompt"},
        "invalid_json": {"retries": 2, "delay": 0.0, "then": "end"},
        "timeout": {"retries": 0, "delay": 0.0, "then": "prompt"},
    }
    build = tmp_path / "build.json"
    build.write_text(json.dumps({"format": "ivrhooks.pbx-behaviour/1", "reactions": reactions}))
    out = tmp_path / "out"
    with fake_pbx_with("--behaviour", str(build)) as pbx:
        steps = "status-500,invalid-json,late"
        report = await asyncio.to_thread(_probe, pbx, out, "--steps", steps)
    found = report["findings"]
    assert (found["non_200"]["retries"], found["non_200"]["then"]) == (1, "prompt")
    assert (found["bad_json"]["retries"], found["bad_json"]["then"]) == (2, "end")
    assert (found["timeout"]["retries"], found["timeout"]["then"]) == (0, "prompt")
    assert "retried 1 time(s)" in found["non_200"]["answer"]
    assert "the prompt played again" in found["non_200"]["answer"]
    assert found["retries"]["answer"] == "yes: 1 after non_200, 2 after bad_json"
    print("resend delays:", found["non_200"]["retry_delays"], found["bad_json"]["retry_delays"])
    again = json.loads((out / "behaviour.json").read_text())
    assert {k: {**v, "delay": 0.0} for k, v in again["reactions"].items()} == reactions
