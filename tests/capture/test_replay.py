"""``ivrhooks replay FILE APP`` and ``ivrhooks.testing.replay``: yesterday's captured calls
answered by today's code, each difference reported, accepted on request."""

from __future__ import annotations

import asyncio
import json
import stat
from pathlib import Path

from ivrhooks.cli.loader import load_app
from ivrhooks.testing import replay, running
from tests.capture.processes import cli

APP = """
from ivrhooks import IVRHooks, call

app = IVRHooks(receptionists=["8000"])

@app.dtmf("1")
async def sales(req):
    return call("2001")

@app.dtmf("2")
async def support(req):
    return call("2002")

@app.dtmf("3")
async def billing(req):
    return call("2003")

@app.caller("5551234")
async def vip(req):
    return call("2900")

@app.fallback
def operator(req):
    return call("0")
"""

# Tomorrow's code: key 1 is another route (same decision), key 2 another queue, key 3 fails,
# and the VIP is someone else.
EDITED = (
    APP.replace('@app.dtmf("1")\nasync def sales', '@app.dtmf("1")\nasync def desk')
    .replace('call("2002")', 'call("2009")')
    .replace('return call("2003")', 'raise RuntimeError("billing is down")')
    .replace('@app.caller("5551234")', '@app.caller("5559999")')
)

CALLS = [("8000", "101", "1"), ("8000", "101", "2"), ("8000", "101", "3"), ("8000", "5551234", "")]


async def _capture(app_path: Path, capture: Path, **environ: str) -> None:
    """Serve the app over loopback with the fake PBX placing ``CALLS``, capturing them."""
    env = {"IVRHOOKS_CAPTURE": str(capture), **environ}
    async with running(load_app(str(app_path)), environ=env) as harness:
        for to, caller, digits in CALLS:
            assert (await harness.dial(to, caller, digits)).status == 200
    # Leaving `running` stops the capture: every line is on disk.


async def _captured(tmp_path: Path, **environ: str) -> tuple[Path, Path]:
    app = tmp_path / "replayapp.py"
    app.write_text(APP)
    capture = tmp_path / "calls.jsonl"
    await _capture(app, capture, **environ)
    assert len(capture.read_text().splitlines()) == len(CALLS)
    return app, capture


async def test_replay_reports_each_change_exits_1_and_0_once_accepted(tmp_path: Path) -> None:
    app, capture = await _captured(tmp_path)
    # Tomorrow's code beside today's, under the same module name: both replays only read the
    # capture, so the two processes run together.
    (tmp_path / "tomorrow").mkdir()
    edited = tmp_path / "tomorrow" / app.name
    edited.write_text(EDITED)
    same, changed = await asyncio.gather(
        asyncio.to_thread(cli, "replay", str(capture), str(app), cwd=tmp_path),
        asyncio.to_thread(cli, "replay", str(capture), str(edited), cwd=edited.parent),
    )
    assert same.returncode == 0, same.stdout + same.stderr
    assert same.stdout.count("same ") == 4
    summary = same.stdout.splitlines()[-1]
    assert summary == (
        "4 requests: 4 same, 0 changed, 0 now a fallback, 0 skipped; caller route not "
        "re-checked: 1 (callers captured masked; IVRHOOKS_CAPTURE_CALLERS=true captures them)"
    )

    print(changed.stdout)
    assert changed.returncode == 1, changed.stdout + changed.stderr
    lines = changed.stdout.splitlines()
    assert lines[0].startswith("changed         line 1 ")
    assert lines[0].endswith(": sales: call 2001  ->  desk: call 2001")
    assert lines[1].startswith("changed         line 2 ")
    assert lines[1].endswith(": support: call 2002  ->  support: call 2009")
    assert lines[2].startswith("now a fallback  line 3 ")
    assert (
        ": billing: call 2003  ->  billing (fallback: error): call 0  (RuntimeError: " in lines[2]
    )
    # The caller's number was captured masked: the VIP route is kept, not re-checked.
    assert lines[3].startswith("same            line 4 ")
    assert "the caller was captured masked" in lines[3]
    assert lines[4].startswith("4 requests: 1 same, 2 changed, 1 now a fallback, 0 skipped")
    assert "5551234" not in changed.stdout

    accepted = cli("replay", str(capture), str(edited), "--accept", cwd=edited.parent)
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    assert "accepted: 3 answers written into" in accepted.stdout
    assert stat.S_IMODE(capture.stat().st_mode) == 0o600  # the new file keeps the old's mode
    third = json.loads(capture.read_text().splitlines()[2])
    assert (third["route"], third["destination"], third["fallback_cause"]) == (
        "billing",
        "0",
        "error",
    )
    assert third["answered_by"] == "fallback"

    again = cli("replay", str(capture), str(edited), cwd=edited.parent)
    assert again.returncode == 0, again.stdout + again.stderr
    assert again.stdout.count("same ") == 4


async def test_replay_in_a_test_returns_the_differences(tmp_path: Path) -> None:
    app, capture = await _captured(tmp_path)
    assert await replay(load_app(str(app)), capture) == []
    app.write_text(EDITED)
    found = await replay(load_app(str(app)), capture)
    assert [(d.line, d.status) for d in found] == [
        (1, "changed"),
        (2, "changed"),
        (3, "now a fallback"),
    ]
    first = found[0]
    assert (first.before.route, first.after and first.after.route) == ("sales", "desk")
    assert (first.receptionist, first.kind, first.digits) == ("8000", "DTMF", "1")
    assert found[2].after is not None and found[2].after.cause == "error"
    assert found[2].note is not None and found[2].note.startswith("RuntimeError: billing is down")


async def test_a_caller_route_is_checked_when_the_callers_were_captured_in_full(
    tmp_path: Path,
) -> None:
    app, capture = await _captured(tmp_path, IVRHOOKS_CAPTURE_CALLERS="true")
    app.write_text(EDITED.replace('raise RuntimeError("billing is down")', 'return call("2003")'))
    found = await replay(load_app(str(app)), capture)
    vip = [d for d in found if d.kind == "CALLER"]
    assert [(d.before.route, d.after and d.after.route) for d in vip] == [("vip", None)]


async def test_a_line_cut_short_is_reported_and_kept_the_rest_replayed(tmp_path: Path) -> None:
    app, capture = await _captured(tmp_path)
    cut = '{"v":1,"time":"2026-11-26T10:00:00+00:00","method":"PO'
    with capture.open("a") as file:
        file.write(cut)  # a crash mid-line
    done = cli("replay", str(capture), str(app), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "unreadable      line 5: not JSON (cut short?)" in done.stdout
    assert done.stdout.splitlines()[-1].endswith("; unreadable lines: 1")
    app.write_text(APP.replace('call("2002")', 'call("2009")'))
    assert cli("replay", str(capture), str(app), "--accept", cwd=tmp_path).returncode == 0
    assert capture.read_text().endswith("\n" + cut)  # left as it was


async def test_a_capture_of_another_format_is_refused(tmp_path: Path) -> None:
    app = tmp_path / "replayapp.py"
    app.write_text(APP)
    capture = tmp_path / "calls.jsonl"
    capture.write_text('{"v":2,"time":"2026-11-26T10:00:00+00:00"}\n')
    done = cli("replay", str(capture), str(app), cwd=tmp_path)
    assert done.returncode == 1
    assert "line 1: a capture of format 2; this ivrhooks reads format 1" in done.stderr
