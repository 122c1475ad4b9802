"""The dev page of ``ivrhooks dev --pbx`` in a real headless Chromium: no phone, the map, and a
call the PBX placed in the live list, as the developer sees them. The PBX: ``ivrhooks fake-pbx``
in a process the dev tests share (tests/dev/conftest.py), on a receptionist of this test's own."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.dev.session import dev_env, fresh_receptionists
from tests.devui.browser import ROOT, chromium, ivrhooks_call
from tests.ports import spare_port

pytestmark = pytest.mark.timeout(180)

APP = """
from ivrhooks import IVRHooks, call

app = IVRHooks(receptionists=["{dev}"], auth="digest")

@app.dtmf("1")
async def sales(req):
    return call("2001")
"""


@contextlib.contextmanager
def _dev(args: list[str], log: Path) -> Iterator[Callable[[], str]]:
    """``ivrhooks dev ARGS``, started; yields a function that waits until its entries are
    registered and returns its dev page's URL (the browser starts meanwhile)."""
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "ivrhooks", "dev", *args],
            cwd=ROOT,
            env=dev_env(),
            stdin=subprocess.PIPE,  # kept open: the session lasts until the end of input
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def ready() -> str:
        deadline = time.monotonic() + 60
        # Both lines: the page's address and the registration are printed by different tasks.
        while "dev entries registered" not in (said := log.read_text(errors="replace")) or not any(
            line.startswith("dev page: ") for line in said.splitlines()
        ):
            assert proc.poll() is None and time.monotonic() < deadline, said
            time.sleep(0.05)  # another process, which sends no event: a bounded poll
        [url] = [line.split()[2] for line in said.splitlines() if line.startswith("dev page: ")]
        return url

    try:
        yield ready
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def test_the_page_under_a_real_pbx_has_no_phone_and_shows_the_pbxs_calls(
    tmp_path: Path, shared_pbx: str
) -> None:
    from playwright.sync_api import expect

    app_file = tmp_path / "devapp.py"
    _, dev = fresh_receptionists()  # of this test's own, on the shared fake PBX (conftest.py)
    app_file.write_text(APP.format(dev=dev))
    port = spare_port()
    pbx = shared_pbx
    args = [str(app_file), "--pbx", pbx, "--receptionist", dev, "--port", str(port)]
    args += ["--public-url", f"http://127.0.0.1:{port}", "--ui-port", str(spare_port())]
    # The browser starts while dev starts its app and registers its entries.
    with _dev(args, tmp_path / "dev.log") as ready, chromium() as browser:
        url = ready()
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(url)
        expect(page.locator("#status")).to_have_text("connected: live")
        expect(page.locator("#phone-panel")).to_be_hidden()
        expect(page.locator(f"#map g.lane[data-receptionist='{dev}'] g.route")).to_have_count(1)
        expect(page.locator("#no-calls")).to_contain_text("dial a receptionist from a phone")
        page.keyboard.press("1")  # the phone's keys do nothing: there is no phone
        page.keyboard.press("Enter")
        said = ivrhooks_call(
            pbx.removesuffix("/api"), "--to", dev, "--caller", "5550199", "--digits", "1"
        )
        assert said.startswith("decision: call 2001"), said
        call: Any = page.locator("#calls li.call").first
        expect(call.locator(".who")).to_have_text(f"caller 55***99 → {dev}")
        expect(call.locator(".verdict")).to_have_text("decision: call 2001")
        expect(call.locator(".details")).to_have_text("handler sales")
        expect(page.locator('#map g.pill.taken[data-target="2001"]')).to_have_count(1)
        page.close()
    assert errors == [], "the page's scripts failed"
