"""``ivrhooks run --capture FILE``: what each answered request leaves in the file, and what it
never does, through a real ``ivrhooks run`` process called by ``ivrhooks call``."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import httpx

from ivrhooks.pbx import PBXClient
from tests.capture.processes import Capturing, cli, run_capturing, wait_for_metric

APP = """
from ivrhooks import IVRHooks, call

app = IVRHooks(receptionists=["8000"], auth="digest")

@app.dtmf("1")
async def sales(req):
    return call("2001")
"""

# Ann calls from her mobile and keys 1.
ANN = ("--to", "8000", "--caller", "5551234", "--caller-name", "Ann Smith", "--digits", "1")

KEYS = {
    "v",
    "time",
    "method",
    "receptionist",
    "kind",
    "route",
    "fields",
    "masked",
    "action",
    "destination",
    "answered_by",
    "fallback_cause",
    "latency_ms",
}


async def _credentials(run: Capturing) -> list[str]:
    """The action URL's registered login, and the embedded PBX's own: none may be captured."""
    async with PBXClient(run.pbx, username="admin", password=run.password) as pbx:
        ids = [i.id async for i in pbx.ivrs.list()]
        urls = await pbx.action_urls.list(ids[0])
    found = [run.password]
    for url in urls:
        found += [str(url.username), str(url.password)]
    return found


def _app(tmp_path: Path) -> Path:
    path = tmp_path / "capapp.py"
    path.write_text(APP)
    return path


async def test_a_capture_holds_the_request_and_its_answer_with_the_caller_masked(
    tmp_path: Path,
) -> None:
    capture = tmp_path / "calls.jsonl"
    async with run_capturing(_app(tmp_path), "--capture", str(capture)) as run:
        secrets = await _credentials(run)
        answered = run.call(*ANN)
        assert "decision: call 2001" in answered.stdout, answered.stdout + answered.stderr
        # A request that fails authentication is refused, and never captured.
        async with httpx.AsyncClient() as http:
            refused = await http.post(
                run.url + "/hooks/sales",
                json={"from": "5551234", "to": "8000", "input": "1", "session_id": "424242424242"},
                headers={"Authorization": 'Digest username="x", response="y"'},
            )
        assert refused.status_code == 401
        assert run.call("--to", "8000", "--caller", "101", "--digits", "1").returncode == 0
        assert await wait_for_metric(run, "ivrhooks_capture_lines_total", 2, result="written") == 2
    text = capture.read_text()
    lines = [json.loads(line) for line in text.splitlines()]
    assert len(lines) == 2
    first = lines[0]
    assert set(first) == KEYS
    assert first["fields"] == {
        "from": "55***34",
        "to": "8000",
        "input": "1",
        "account_name": first["fields"]["account_name"],
        "session_id": first["fields"]["session_id"],
    }
    assert first["masked"] == ["from", "from_name"]
    assert (first["method"], first["receptionist"], first["kind"], first["route"]) == (
        "POST",
        "8000",
        "DTMF",
        "sales",
    )
    assert (first["action"], first["destination"], first["answered_by"]) == (
        "call",
        "2001",
        "route",
    )
    assert first["fallback_cause"] is None
    assert lines[1]["fields"]["from"] == "***"  # a three-digit extension: nothing shown
    # Nothing it should not hold: the number or the name in full, a header, a credential.
    assert "5551234" not in text and "Ann" not in text and "424242424242" not in text
    assert "authorization" not in text.lower() and "digest" not in text.lower()
    for secret in secrets:
        assert secret not in text
    assert stat.S_IMODE(capture.stat().st_mode) == 0o600


async def test_with_the_operators_consent_the_capture_holds_callers_in_full(
    tmp_path: Path,
) -> None:
    capture = tmp_path / "calls.jsonl"
    env = {"IVRHOOKS_CAPTURE": str(capture), "IVRHOOKS_CAPTURE_CALLERS": "true"}
    async with run_capturing(_app(tmp_path), env=env) as run:
        answered = run.call(*ANN)
        assert answered.returncode == 0, answered.stderr
        await wait_for_metric(run, "ivrhooks_capture_lines_total", 1, result="written")
    (line,) = [json.loads(text) for text in capture.read_text().splitlines()]
    assert line["fields"]["from"] == "5551234"
    assert line["fields"]["from_name"] == "Ann Smith"
    assert line["masked"] == []


async def test_a_full_disk_loses_the_capture_never_the_call(tmp_path: Path) -> None:
    # /dev/full refuses every write with ENOSPC, as a full disk does.
    async with run_capturing(_app(tmp_path), "--capture", "/dev/full") as run:
        for _ in range(3):
            answered = run.call("--to", "8000", "--caller", "101", "--digits", "1")
            assert "decision: call 2001" in answered.stdout, answered.stdout + answered.stderr
        failed = await wait_for_metric(run, "ivrhooks_capture_lines_total", 3, result="failed")
        written = await wait_for_metric(run, "ivrhooks_capture_lines_total", 0, result="written")
        async with httpx.AsyncClient() as http:
            ready = await http.get(run.url + "/readyz")
    print(f"/dev/full: {failed:g} lines failed, {written:g} written")
    assert (failed, written) == (3, 0)
    assert ready.status_code == 200
    output = "".join(run.lines)
    assert output.count("capture: writing /dev/full failed (No space left on device)") == 1, output


async def test_a_capture_file_that_cannot_be_opened_stops_startup_naming_the_setting(
    tmp_path: Path,
) -> None:
    app = _app(tmp_path)
    missing = tmp_path / "no-such-directory" / "calls.jsonl"
    args = ["run", str(app), "--port", "0", "--pbx-port", "0", "--no-ui"]
    done = cli(*args, "--capture", str(missing), cwd=tmp_path)
    assert done.returncode == 1
    assert f"IVRHOOKS_CAPTURE={missing}: cannot open it for writing" in done.stderr, done.stderr
