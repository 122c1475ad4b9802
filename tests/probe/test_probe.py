"""``ivrhooks probe`` against the fake PBX in a process of its own, as an operator runs it: the
report says what the fake did after each deliberate answer, the entry is gone afterwards
however the run ends, and a receptionist holding other entries is refused unless --force.

One fake PBX process serves the whole file (tests/probe/conftest.py), each test probing a
receptionist of its own there: what one leaves on its receptionist, no other sees."""

from __future__ import annotations

import asyncio
import json
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ivrhooks.fakepbx import DEFAULT_PASSWORD, DEFAULT_USERNAME
from ivrhooks.fakepbx.remote import place_call
from ivrhooks.pbx import PBXClient
from tests.probe.processes import (
    action_urls,
    fresh_receptionist,
    read_until,
    receptionist_id,
    rest,
    run_probe,
    start_probe,
)

CALLER = "5551234"  # masked in the report as 55***34
ENTER = "then press Enter here"


@pytest.fixture(scope="module")
def probed(
    tmp_path_factory: pytest.TempPathFactory, shared_pbx: str
) -> Iterator[tuple[dict[str, Any], str, str]]:
    """One full self-dialled run against a fake PBX process: its report.json and report.md,
    and the receptionist probed."""
    out = tmp_path_factory.mktemp("probe")
    ext = fresh_receptionist()
    args = ("--self-dial", "--request-timeout", "1", "--caller", CALLER)
    done = run_probe(shared_pbx, out, *args, receptionist=ext)
    assert done.returncode == 0, done.stdout + done.stderr
    left = asyncio.run(action_urls(shared_pbx, ext))
    print(done.stdout)
    assert left == [], "the probe removed its entry at the end of the run"
    yield json.loads((out / "report.json").read_text()), (out / "report.md").read_text(), ext


def test_each_deliberate_answer_is_reported_as_the_fake_pbx_reacted(
    probed: tuple[dict[str, Any], str, str],
) -> None:
    report, markdown, ext = probed
    found = report["findings"]
    # The fake PBX (fakepbx/dial.py, flow.py) neither retries nor prompts again after a late
    # answer, a 500 or a body that is not JSON: the call ends.
    for key, answered in [
        ("timeout", "nothing: the PBX closed the connection first"),
        ("non_200", "HTTP 500"),
        ("bad_json", "HTTP 200, not JSON"),
    ]:
        assert found[key]["answered"] == answered
        assert (found[key]["retries"], found[key]["then"]) == (0, "end"), found[key]
        assert found[key]["answer"].startswith("no retry") or "; no retry;" in found[key]["answer"]
    # It gives up on the late answer by closing the connection (httpx's read timeout).
    assert found["timeout"]["closed_early"] is True
    print("the fake PBX gave up after", found["timeout"]["after"], "s (request_timeout 1 s)")
    assert found["retries"]["answer"] == "no retry after timeout, non_200, bad_json"
    # Each decision: repeat prompts again and call forwards, both under the same session_id;
    # hangup ends the call.
    assert (found["repeat"]["answered"], found["repeat"]["then"]) == ("repeat", "prompt")
    assert found["session_forward"]["answered"] == f"call {ext}"
    assert found["session_forward"]["kept"] is True
    assert (found["hangup"]["answered"], found["hangup"]["then"]) == ("hangup", "end")
    # What the fake sends: JSON, every value a string, a session_id of digits; Digest after
    # a challenge, with ivrhooks' qop and algorithm, verified.
    assert found["content_type"]["content_types"] == ["application/json"]
    assert found["content_type"]["strings"] is True
    assert found["session_id"]["digits"] is True
    assert found["digest"]["challenged_first"] is True
    assert (found["digest"]["algorithm"], found["digest"]["qop"]) == ("MD5", "auth")
    assert found["digest"]["verified"] is True and found["digest"]["uri_matches"] is True
    # The report says so in words, beside what the fake PBX is documented to do.
    assert "| What does it do after an answer that is not HTTP 200? | no retry;" in markdown
    assert "ivrhooks' fake PBX" in markdown


def test_the_report_keeps_no_secret_and_no_full_number(
    probed: tuple[dict[str, Any], str, str],
) -> None:
    report, markdown, _ = probed
    text = json.dumps(report) + markdown
    assert CALLER not in text
    assert '"from": "55***34"' in json.dumps(report["requests"][1]["fields"])
    digest = [h for r in report["requests"] for h in r["headers"] if h[0] == "authorization"]
    assert digest and all(value.startswith("Digest <username, realm,") for _, value in digest)
    assert "response=" not in text and "cnonce=" not in text


async def test_the_operator_places_each_call_and_presses_enter(
    tmp_path: Path, shared_pbx: str, receptionist: str
) -> None:
    pbx, args = shared_pbx, ("--steps", "hangup,status-500", "--no-ask")
    with start_probe(pbx, tmp_path, *args, receptionist=receptionist) as probe:
        for _ in range(2):
            await asyncio.to_thread(read_until, probe.stdout, ENTER)
            # The operator's call: here, the test dials the fake PBX.
            hops = await asyncio.to_thread(
                place_call, pbx, to=receptionist, caller=CALLER, digits=["1", "2"]
            )
            assert hops["hops"][0]["matched"] is True
            assert probe.stdin is not None
            probe.stdin.write("\n")
            probe.stdin.flush()
        out, err = await asyncio.to_thread(rest, probe)
    assert probe.returncode == 0, out + err
    assert await action_urls(pbx, receptionist) == []
    found = json.loads((tmp_path / "report.json").read_text())["findings"]
    assert (found["hangup"]["then"], found["non_200"]["then"]) == ("end", "end")
    assert found["non_200"]["retries"] == 0
    assert found["timeout"]["answer"] == "not probed (its step was not run)"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
async def test_a_signal_removes_the_entry(
    tmp_path: Path, sig: signal.Signals, shared_pbx: str, receptionist: str
) -> None:
    pbx = shared_pbx
    with start_probe(pbx, tmp_path, receptionist=receptionist) as probe:
        await asyncio.to_thread(read_until, probe.stdout, ENTER)
        (entry,) = await action_urls(pbx, receptionist)
        assert entry.name is not None and entry.name.startswith("ivrhooks:probe@")
        assert entry.dtmf_mask == "ALL"
        probe.send_signal(sig)
        out, err = await asyncio.to_thread(rest, probe)
    assert probe.returncode == 128 + sig.value, out + err
    assert f"removed {entry.name}" in out
    assert await action_urls(pbx, receptionist) == []
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["interrupted"] == sig.name


async def _add(pbx_url: str, receptionist: str, name: str, mask: str) -> None:
    async with PBXClient(pbx_url, username=DEFAULT_USERNAME, password=DEFAULT_PASSWORD) as c:
        ivr_id = await receptionist_id(c, receptionist)
        await c.action_urls.create(
            ivr_id, name=name, enabled=True, type="DTMF", method="POST", dtmf_mask=mask,
            url="http://127.0.0.1:9/crm",
        )  # fmt: skip


async def test_a_receptionist_with_other_entries_is_refused_unless_forced(
    tmp_path: Path, shared_pbx: str, receptionist: str
) -> None:
    pbx, ext = shared_pbx, receptionist
    await _add(pbx, ext, "crm", "7")
    await _add(pbx, ext, "ivrhooks:probe@old123", "ALL")  # an earlier probe, killed with -9
    refused = await asyncio.to_thread(run_probe, pbx, tmp_path, "--self-dial", receptionist=ext)
    assert refused.returncode == 1, refused.stdout + refused.stderr
    (error,) = [line for line in refused.stderr.splitlines() if line.startswith("Error:")]
    assert f"receptionist {ext} holds 1 action URL(s)" in error
    assert "(crm)" in error and "--force" in error
    assert sorted(u.name or "" for u in await action_urls(pbx, ext)) == [
        "crm",
        "ivrhooks:probe@old123",
    ], "a refusal writes nothing and deletes nothing"

    args = ("--self-dial", "--force", "--steps", "hangup")
    forced = await asyncio.to_thread(run_probe, pbx, tmp_path, *args, receptionist=ext)
    assert forced.returncode == 0, forced.stdout + forced.stderr
    assert "removed ivrhooks:probe@old123: an earlier probe's entry" in forced.stdout
    assert [u.name for u in await action_urls(pbx, ext)] == ["crm"]
    found = json.loads((tmp_path / "report.json").read_text())["findings"]
    assert found["hangup"]["then"] == "end"


async def test_get_and_basic_are_recorded_as_sent(
    tmp_path: Path, shared_pbx: str, receptionist: str
) -> None:
    args = ("--self-dial", "--method", "GET", "--auth", "basic", "--steps", "hangup")
    done = await asyncio.to_thread(
        run_probe, shared_pbx, tmp_path, *args, receptionist=receptionist
    )
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["findings"]["content_type"]["answer"] == "GET: the fields in the query string"
    assert report["findings"]["digest"]["answer"].startswith("not probed")
    first = next(r for r in report["requests"] if r["kind"] == "first")
    assert first["auth"]["scheme"] == "Basic" and first["auth"]["verified"] is True
    assert ["authorization", "Basic <credentials>"] in first["headers"]
    behaviour = json.loads((tmp_path / "behaviour.json").read_text())
    assert behaviour["requests"]["GET"]["encoding"] == "query"
    assert behaviour["requests"]["GET"]["fields"][0] == "session_id"
