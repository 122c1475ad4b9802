"""``ivrhooks dev --pbx URL --receptionist EXT`` against ``ivrhooks fake-pbx`` run as a separate
process, reached as a real PBX would be: what it registers where, a call reaching the dev app,
a reload, the cleanup on SIGTERM, a crashed session's entries, production's receptionists and a
tunnel command.

One fake PBX process serves these tests (tests/dev/conftest.py); each test's app and session
use two receptionists of the test's own there, so no test sees what another wrote or left."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from ivrhooks.manifest import derive_app_id
from ivrhooks.registration.devnames import dev_entry_name, parse_dev_name
from ivrhooks.testing import bind_socket
from tests.dev.session import ROOT, add_entry, dev_env, entries, fresh_receptionists, running_dev
from tests.ports import spare_port

pytestmark = pytest.mark.timeout(180)

APP = """
from ivrhooks import IVRHooks, call

app = IVRHooks(receptionists=["{main}", "{dev}"], auth="digest")

@app.dtmf("1")
async def sales(req):
    return call("2001")
"""

WITH_SUPPORT = (
    APP
    + """
@app.dtmf("2")
async def support(req):
    return call("2002")
"""
)


_IVRHOOKS = (sys.executable, "-m", "ivrhooks")


def _call(pbx: str, to: str, digits: str) -> str:
    """``ivrhooks call --pbx <the fake PBX>``, as a person would place a call there."""
    done = subprocess.run(
        [*_IVRHOOKS, "call", "--pbx", pbx.removesuffix("/api"), "--to", to, "--digits", digits],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if not k.startswith("IVRHOOKS_")},
    )
    return done.stdout + done.stderr


def _session_app(tmp_path: Path) -> tuple[str, str, Path]:
    """Receptionists of this test's own on the shared fake PBX, and the app written for them."""
    main_ext, dev_ext = fresh_receptionists()
    app_file = tmp_path / "devapp.py"
    app_file.write_text(APP.format(main=main_ext, dev=dev_ext))
    return main_ext, dev_ext, app_file


async def test_dev_registers_on_the_named_receptionist_follows_a_reload_and_cleans_up_on_sigterm(
    tmp_path: Path, shared_pbx: str
) -> None:
    main_ext, dev_ext, app_file = _session_app(tmp_path)
    port = spare_port()
    public = f"http://127.0.0.1:{port}"
    pbx = shared_pbx
    args = [str(app_file), "--pbx", pbx, "--receptionist", dev_ext, "--public-url", public]
    args += ["--port", str(port), "--ui-port", "0"]
    async with running_dev(args, dev_env()) as dev:
        await dev.expect("calls come from the PBX")
        # Printed by the app and by the registration pass: either may come first.
        shown_first = await dev.expect_each("dev page: ", "dev entries registered")
        page = shown_first["dev page: "].split()[2]
        line = shown_first["dev entries registered"]
        assert f"on receptionist {dev_ext} (1 created, 0 updated, 0 deleted;" in line
        [sales] = await entries(pbx, dev_ext)
        parsed = parse_dev_name(sales.name)
        assert parsed is not None and parsed.route == "sales"
        assert parsed.expires > time.time()
        assert sales.url == f"{public}/hooks/sales"
        assert await entries(pbx, main_ext) == [], "only the named receptionist"

        said = await asyncio.to_thread(_call, pbx, dev_ext, "1")
        assert said.startswith("decision: call 2001  (handler: sales, HTTP 200, "), said
        # The dev page, served with no phone; the call is in the map (the app's journal).
        async with httpx.AsyncClient(base_url=page, timeout=10) as http:
            assert '<body data-phone="off">' in (await http.get("/")).text
            assert (await http.post("/api/call", json={})).status_code == 404
            shown = (await http.get("/api/map")).json()
        lane = next(r for r in shown["receptionists"] if r["number"] == dev_ext)
        [route] = lane["routes"]
        assert route["targets"] == [
            {"kind": "number", "number": "2001", "sources": ["code", "seen"]}
        ]

        app_file.write_text(WITH_SUPPORT.format(main=main_ext, dev=dev_ext))
        await dev.expect("reloading (changed: devapp.py)")
        line = await dev.expect("dev entries registered")
        assert "(1 created, 0 updated, 0 deleted;" in line, "what did not change: unwritten"
        now = await entries(pbx, dev_ext)
        assert [parse_dev_name(e.name).route for e in now] == ["sales", "support"]  # type: ignore[union-attr]
        assert now[0].id == sales.id, "the session's entry is updated in place"
        said = await asyncio.to_thread(_call, pbx, dev_ext, "2")
        assert said.startswith("decision: call 2002  (handler: support, "), said

        dev.proc.send_signal(signal.SIGTERM)
        rest = await dev.rest()
        assert dev.proc.returncode == 0, rest
        assert f"removed 2 dev entries from receptionist {dev_ext}" in rest
        assert await entries(pbx, dev_ext) == []
    bind_socket("127.0.0.1", port).close()  # its child is gone too


async def test_expired_dev_entries_are_reaped_and_a_crashed_sessions_taken_over_at_the_next_start(
    tmp_path: Path, shared_pbx: str
) -> None:
    main_ext, dev_ext, app_file = _session_app(tmp_path)
    port = spare_port()
    public = f"http://127.0.0.1:{port}"
    args = ["--receptionist", dev_ext, "--public-url", public, "--port", str(port), "--no-ui"]
    past = int(time.time()) - 60
    pbx = shared_pbx
    args = [str(app_file), "--pbx", pbx, *args]
    # Left by sessions that ended without cleaning up, an hour ago, from another tunnel: on
    # the named receptionist and on another of the app's. Beside them, another app's
    # expired dev entry and a person's entry: not this app's to delete.
    old = "https://old-tunnel.example"
    old_id = derive_app_id("devapp", old)
    for ext in (dev_ext, main_ext):
        await add_entry(
            pbx,
            ext,
            name=dev_entry_name("sales", 1, old_id, past),
            type="DTMF",
            dtmf_mask="1",
            url=f"{old}/hooks/sales",
        )
    stranger = dev_entry_name("menu", 1, "zzzzzz", past)
    await add_entry(pbx, dev_ext, name=stranger, type="DTMF", dtmf_mask="5", url=f"{old}/x")
    await add_entry(pbx, dev_ext, name="crm", type="DTMF", dtmf_mask="9", url=f"{old}/crm")

    async with running_dev(args, dev_env()) as dev:
        await dev.expect("dev entries registered")
        reaped = [line for line in dev.transcript if line.startswith("deleted ivrhooks-dev:")]
        assert len(reaped) == 2, dev.transcript
        assert all(": a dev entry of this app, expired at " in line for line in reaped)
        [mine] = [e for e in await entries(pbx, dev_ext) if e.url == f"{public}/hooks/sales"]
        os.killpg(dev.proc.pid, signal.SIGKILL)  # a crash: nothing is cleaned up
        await dev.proc.wait()
    assert mine in await entries(pbx, dev_ext)
    assert [e.name for e in await entries(pbx, main_ext)] == []
    left = {str(e.name) for e in await entries(pbx, dev_ext)}
    assert left == {str(mine.name), stranger, "crm"}

    async with running_dev(args, dev_env()) as dev:
        line = await dev.expect("dev entries registered")
        assert "(0 created, 1 updated, 0 deleted;" in line, "taken over, not duplicated"
        [again] = [e for e in await entries(pbx, dev_ext) if e.url == f"{public}/hooks/sales"]
        assert again.id == mine.id
        await dev.type("quit")
        rest = await dev.rest()
        assert "removed 1 dev entry" in rest
    assert {str(e.name) for e in await entries(pbx, dev_ext)} == {stranger, "crm"}


async def test_a_receptionist_with_this_apps_production_entries_is_refused_unless_forced(
    tmp_path: Path, shared_pbx: str
) -> None:
    _, dev_ext, app_file = _session_app(tmp_path)
    port = spare_port()
    pbx = shared_pbx
    production = dev_env(
        IVRHOOKS_PBX_URL=pbx,
        IVRHOOKS_PUBLIC_URL="https://ivr.example.com",
        IVRHOOKS_SECRET="production-secret-for-this-test-0123456789",
    )
    synced = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "ivrhooks", "sync", str(app_file)],
        env=production,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert synced.returncode == 0, synced.stderr
    [prod] = await entries(pbx, dev_ext)
    assert str(prod.name).startswith("ivrhooks:sales@")

    args = [str(app_file), "--pbx", pbx, "--receptionist", dev_ext]
    args += ["--public-url", f"http://127.0.0.1:{port}", "--port", str(port), "--no-ui"]
    async with running_dev(args, dev_env()) as dev:
        rest = await dev.rest()
    assert dev.proc.returncode == 1
    [refusal] = [line for line in rest.splitlines() if line.startswith("Error: ")]
    assert refusal.startswith(
        f"Error: receptionist {dev_ext}: holds this app's production action URLs '{prod.name}' "
        f"(id {prod.id})"
    )
    assert "pass --force" in refusal
    assert await entries(pbx, dev_ext) == [prod], "nothing written"

    async with running_dev([*args, "--force"], dev_env()) as dev:
        await dev.expect("dev entries registered")
        names = [str(e.name) for e in await entries(pbx, dev_ext)]
        assert len(names) == 2 and names[0].startswith("ivrhooks-dev:sales@")
        await dev.type("quit")
        await dev.rest()
    assert await entries(pbx, dev_ext) == [prod], "production's entry, untouched"


TUNNEL = """
import os, pathlib, sys, time
pathlib.Path(sys.argv[1]).write_text(str(os.getpid()))
print("tunnels explained at https://docs.example.test/tunnels", file=sys.stderr, flush=True)
print("your tunnel is ready: https://example.test", flush=True)
time.sleep(600)
"""


async def test_a_tunnel_commands_url_is_registered_and_the_command_stopped_at_the_end(
    tmp_path: Path, shared_pbx: str
) -> None:
    _, dev_ext, app_file = _session_app(tmp_path)
    script, pid_file = tmp_path / "tunnel.py", tmp_path / "tunnel.pid"
    script.write_text(TUNNEL)
    tunnel = f"{sys.executable} {script} {pid_file}"
    pbx = shared_pbx
    args = [str(app_file), "--pbx", pbx, "--receptionist", dev_ext, "--tunnel-cmd", tunnel]
    async with running_dev([*args, "--port", str(spare_port()), "--no-ui"], dev_env()) as dev:
        assert "https://example.test" in await dev.expect("the PBX calls the app at")
        await dev.expect("dev entries registered")
        [entry] = await entries(pbx, dev_ext)
        assert entry.url == "https://example.test/hooks/sales"
        pid = int(pid_file.read_text())
        os.kill(pid, 0)  # running for the session
        await dev.type("quit")
        assert "removed 1 dev entry" in await dev.rest()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
