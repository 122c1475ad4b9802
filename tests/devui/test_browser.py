"""The dev page in a real headless Chromium, against ``ivrhooks run`` and ``ivrhooks dev``
processes: the map, the phone, the live list, a fallback and a reload, as a developer sees them.

The README's screenshot (docs/images/dev-phone.png) is taken here; the file is rewritten when
``UPDATE_SCREENSHOTS=1`` is set (or when it is missing), so an ordinary test run leaves the
work tree clean.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.devui.browser import BROKEN_LINE, DEV_APP, ROOT, Served, ivrhooks, ivrhooks_call

pytestmark = pytest.mark.timeout(120)

SCREENSHOT = ROOT / "docs" / "images" / "dev-phone.png"


def _expect() -> Any:
    from playwright.sync_api import expect

    return expect


def test_the_map_lists_every_route_of_the_quickstart(quickstart: Served, page: Any) -> None:
    from quickstart import app

    page.goto(quickstart.page)
    expect = _expect()
    expect(page.locator("#status")).to_have_text("connected: live")
    lane = page.locator('#map g.lane[data-receptionist="8000"]')
    expect(lane.locator("text").first).to_have_text("Receptionist 8000")
    cards = lane.locator("g.route")
    expect(cards).to_have_count(len(app.table))
    for route in app.table:
        card = lane.locator(f'g.route[data-route="{route.name}"]')
        expect(card).to_contain_text(route.mask.text)
        expect(card).to_contain_text(f"{route.handler.__name__}() · basic auth")
        expect(card).to_contain_text(route.kind)
    pills = page.locator("#map g.pill text")
    for label in ("call 2001", "call 2002", "hang up", "call 2100", "call 2900"):
        expect(pills.filter(has_text=re.compile(f"^{label}$"))).to_have_count(1)
    expect(pills.filter(has_text="call a number it computes")).to_have_count(1)
    expect(page.locator("#map g.fallback")).to_contain_text("Fallback default(): repeat the prompt")


def test_keying_digits_and_calling_shows_the_decision(quickstart: Served, page: Any) -> None:
    page.goto(quickstart.page)
    expect = _expect()
    expect(page.get_by_label("Receptionist", exact=True)).to_have_value("8000")
    # The on-screen keypad.
    page.get_by_role("button", name="1", exact=True).click()
    expect(page.get_by_label("Digits")).to_have_value("1")
    page.get_by_role("button", name="Call", exact=True).click()
    result = page.locator("#result li.hop")
    expect(result).to_have_count(1)
    expect(result).to_contain_text("receptionist 8000 · keys 1")
    expect(result.locator(".verdict")).to_have_text("decision: call 2001")
    expect(result).to_contain_text("handler sales · HTTP 200 ·")
    expect(result).to_contain_text(re.compile(r"\d+\.\d ms"))
    # The keypad from the keyboard, focus on no field: digits, Backspace, Enter calls.
    page.get_by_role("button", name="Clear").click()
    page.evaluate("document.activeElement.blur()")
    page.keyboard.type("31234")
    page.keyboard.press("Backspace")
    expect(page.get_by_label("Digits")).to_have_value("3123")
    page.keyboard.press("Enter")
    expect(result.locator(".verdict")).to_have_text("decision: call 2123")
    expect(result).to_contain_text("handler account")
    # Labelled controls in tab order, the focus visible.
    page.get_by_label("Caller number").focus()
    page.keyboard.press("Tab")
    focused = page.evaluate(
        "[document.activeElement.id, getComputedStyle(document.activeElement).outlineStyle]"
    )
    assert focused == ["digits", "solid"]


def test_a_call_from_ivrhooks_call_appears_in_the_live_list(
    quickstart: Served, page: Any, tmp_path: Path
) -> None:
    page.goto(quickstart.page)
    expect = _expect()
    expect(page.locator("#status")).to_have_text("connected: live")
    shown = page.locator("#calls li.call")
    before = shown.count()
    output = ivrhooks_call(quickstart.pbx, "--to", "8000", "--caller", "5550199", "--digits", "2")
    assert output.startswith("decision: call 2002")
    newest = shown.first
    expect(shown).to_have_count(before + 1)  # no reload: the page heard of it
    expect(newest.locator(".who")).to_have_text("caller 5550199 → 8000")
    expect(newest.locator(".verdict")).to_have_text("decision: call 2002")
    expect(newest).to_contain_text("handler support · HTTP 200")
    # The decision it saw now marks the map too.
    expect(page.locator('#map g.pill.taken[data-target="2002"]')).to_have_count(1)

    # The README's picture: a call on the phone, the map, the live list.
    page.get_by_label("Digits").fill("1")
    page.get_by_role("button", name="Call", exact=True).click()
    expect(page.locator("#result .verdict")).to_have_text("decision: call 2001")
    expect(shown).to_have_count(before + 2)
    page.evaluate("document.activeElement.blur()")
    taken = tmp_path / "dev-phone.png"
    page.screenshot(path=str(taken))
    assert taken.read_bytes().startswith(b"\x89PNG")
    if os.environ.get("UPDATE_SCREENSHOTS") == "1" or not SCREENSHOT.exists():
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(taken, SCREENSHOT)


def test_the_events_a_call_posts_appear_under_it(quickstart: Served, page: Any) -> None:
    page.goto(quickstart.page)
    expect = _expect()
    expect(page.locator("#status")).to_have_text("connected: live")
    login = re.search(r"embedded fake PBX: \S+ \(login (\S+) / (\S+)\)", quickstart.output())
    assert login is not None, quickstart.output()
    with httpx.Client(base_url=quickstart.pbx + "/api/") as http:
        answer = http.post("auth/sign_in", json={"username": login[1], "password": login[2]})
        http.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"
        # A path the app does not serve (the embedded PBX posts to the app only): 404.
        url = f"http://127.0.0.1:{quickstart.port}/no-such-endpoint"
        assert http.post("tenant", json={"cdr_event": {"enabled": True, "url": url}}).is_success
        try:
            output = ivrhooks_call(quickstart.pbx, "--to", "8000", "--digits", "1")
        finally:
            http.post("tenant", json={"cdr_event": {"enabled": False}})
    assert output.splitlines()[-1] == "outcome: answered by 2001 after 0.0 s"
    listed = page.locator("#calls li.call").first.locator("li.pbx-event")
    # `ivrhooks run` pointed the extension event URL at the app (200); the CDR one was moved
    # to a path it does not serve (404).
    posted = listed.filter(has_text="HTTP 404")
    expect(posted).to_have_count(7)
    expect(posted.first).to_have_text("call_start · HTTP 404")
    expect(posted.nth(2)).to_have_text("cdr_target_add · 2001 · HTTP 404")
    expect(posted.last).to_have_text("call_cdr · HTTP 404")
    expect(listed.filter(has_text="extension_call · 2001 · HTTP 200")).to_have_count(3)


ADDED = """
@app.dtmf("5")
async def added(req):
    return call("2005")
"""


def test_dev_shows_a_fallback_with_its_cause_and_redraws_the_map_on_reload(
    browser: Any, tmp_path: Path
) -> None:
    app_file = tmp_path / "devapp.py"
    app_file.write_text(DEV_APP)
    with ivrhooks("dev", app_file, tmp_path / "dev.log") as served:
        page = browser.new_page()
        page.goto(served.page)
        expect = _expect()
        expect(page.locator('#map [data-edge="8000:menu->8001"]')).to_have_count(1)
        expect(page.locator('#map g.lane[data-receptionist="8001"] g.route')).to_have_count(1)

        page.get_by_label("Digits").fill("7")
        page.get_by_role("button", name="Call", exact=True).click()
        hop = page.locator("#result li.hop")
        expect(hop).to_have_attribute("data-outcome", "fallback")
        expect(hop.locator(".verdict")).to_have_text("fallback: call 0")
        expect(hop).to_contain_text("route broken · cause: error · ZeroDivisionError")
        expect(hop).to_contain_text(f"at {app_file}:{BROKEN_LINE}")
        expect(hop).to_contain_text("answered by the fallback")

        # Two prompts: the call is followed to 8001 under one session id.
        page.get_by_label("Digits").fill("3 1")
        page.get_by_role("button", name="Call", exact=True).click()
        expect(page.locator("#result li.hop .place")).to_have_text(
            ["receptionist 8000 · keys 3", "receptionist 8001 · keys 1"]
        )
        expect(page.locator("#result li.hop .verdict")).to_have_text(
            ["decision: call 8001", "decision: call 2001"]
        )
        expect(page.locator("#calls li.call").first.locator("li.hop")).to_have_count(2)

        # A call typed at the dev prompt shows up too.
        served.type("5550123 7")
        typed = page.locator("#calls li.call").first
        expect(typed.locator(".who")).to_have_text("caller 5550123 → 8000")
        expect(typed.locator(".verdict")).to_have_text("fallback: call 0")

        # An edit: dev restarts the app; the page reconnects and draws the new route.
        app_file.write_text(DEV_APP + ADDED)
        expect(page.locator('#map g.route[data-route="added"]')).to_have_count(1, timeout=20_000)
        expect(page.locator("#status")).to_contain_text("the app reloaded at")
        expect(page.locator("#calls li.marker")).to_contain_text("the app restarted")
        expect(page.locator("#calls li.call").first.locator(".who")).to_have_text(
            "caller 5550123 → 8000"
        )
        page.close()
