"""The dev page from the keyboard alone, in a real headless Chromium: choosing a route on the
map with Tab and Enter or Space, ``*`` and ``#`` from the keyboard and the on-screen keypad,
and the next prompt of a multi-step call from the "Next prompt" key and from Space."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.devui.browser import Served, ivrhooks_call

pytestmark = pytest.mark.timeout(120)


def _expect() -> Any:
    from playwright.sync_api import expect

    return expect


def _open(page: Any, served: Served) -> Any:
    page.goto(served.page)
    expect = _expect()
    expect(page.locator("#status")).to_have_text("connected: live")
    expect(page.locator("#map g.route").first).to_be_visible()
    return expect


def _focused(page: Any) -> str:
    """The focused element: ``#id``, or ``route:<name>`` for a route card of the map."""
    return str(
        page.evaluate(
            "(() => { const e = document.activeElement;"
            " return e.dataset.route ? `route:${e.dataset.route}` : `#${e.id}`; })()"
        )
    )


def _wait_newest_call_is_this_one(page: Any) -> None:
    """Until the live list's newest call is the one the phone shows (the events are in order:
    every call placed before it is listed by then)."""
    page.wait_for_function(
        "() => { const s = document.getElementById('result').dataset.session;"
        " const c = document.querySelector('#calls li.call');"
        " return s && c && c.dataset.session === s; }"
    )


def test_a_route_is_chosen_on_the_map_with_tab_and_enter_or_space(
    quickstart: Served, page: Any
) -> None:
    from quickstart import app

    expect = _open(page, quickstart)
    names = [route.name for route in app.table]
    # After the phone's last control, Tab walks the map's route cards in order.
    page.locator("#dial").focus()
    for name in names:
        page.keyboard.press("Tab")
        assert _focused(page) == f"route:{name}"
    # The focus is visible: only the focused card wears the thick ring.
    stroke = "(e) => getComputedStyle(e.querySelector('.card')).strokeWidth"
    focus_ring = {
        name: page.locator(f'#map g.route[data-route="{name}"]').evaluate(stroke) for name in names
    }
    assert focus_ring == {name: "4px" if name == names[-1] else "1.5px" for name in names}
    for _ in names[names.index("support") + 1 :]:
        page.keyboard.press("Shift+Tab")
    assert _focused(page) == "route:support"

    # Enter chooses it: the phone is ready with keys that route answers, the focus on Call, and
    # no call is placed until Call is pressed.
    page.keyboard.press("Enter")
    expect(page.get_by_label("Receptionist", exact=True)).to_have_value("8000")
    expect(page.get_by_label("Digits")).to_have_value("2")
    assert _focused(page) == "#dial"
    expect(page.locator("#result li")).to_have_count(0)
    page.keyboard.press("Enter")
    expect(page.locator("#result li.hop .verdict")).to_have_text("decision: call 2002")
    _wait_newest_call_is_this_one(page)
    calls = page.locator("#calls li.call").count()

    # Space chooses too; its key-up on the Call button it moved to places no call either.
    for _ in names[: names.index("goodbye") + 1]:
        page.keyboard.press("Tab")
    assert _focused(page) == "route:goodbye"
    page.keyboard.press(" ")
    expect(page.get_by_label("Digits")).to_have_value("9")
    assert _focused(page) == "#dial"
    page.keyboard.press(" ")  # on Call: the call
    expect(page.locator("#result li.hop .verdict")).to_have_text("decision: hangup")
    _wait_newest_call_is_this_one(page)
    expect(page.locator("#calls li.call")).to_have_count(calls + 1)

    # A caller-number route: its example number goes to the caller field, no digits.
    page.locator('#map g.route[data-route="vip"]').focus()
    page.keyboard.press("Enter")
    expect(page.get_by_label("Caller number")).to_have_value(re.compile(r"^555"))
    expect(page.get_by_label("Digits")).to_have_value("")


def test_a_redrawn_map_keeps_the_focus_on_its_route(quickstart: Served, page: Any) -> None:
    expect = _open(page, quickstart)
    page.locator('#map g.route[data-route="account"]').focus()
    # A call from elsewhere dials a number the map had not seen: the map is drawn again.
    ivrhooks_call(quickstart.pbx, "--to", "8000", "--caller", "5550100", "--digits", "3456")
    expect(page.locator('#map g.pill.taken[data-target="2456"]')).to_have_count(1)
    assert _focused(page) == "route:account"
    page.keyboard.press("Enter")
    expect(page.get_by_label("Digits")).to_have_value("3000")


def test_star_and_hash_from_the_keyboard_and_the_keypad(
    devapp: tuple[Served, Path], page: Any
) -> None:
    served, _ = devapp
    expect = _open(page, served)
    page.get_by_label("Receptionist", exact=True).select_option("8002")
    digits = page.get_by_label("Digits")
    hop = page.locator("#result li.hop")

    # Typed anywhere on the page (no field focused).
    page.evaluate("document.activeElement.blur()")
    for key in ("*", "0", "#"):
        page.keyboard.press(key)
    expect(digits).to_have_value("*0#")
    page.keyboard.press("Enter")
    expect(hop.locator(".place")).to_have_text("receptionist 8002 · keys *0#")
    expect(hop.locator(".verdict")).to_have_text("decision: call 2001")
    expect(hop).to_contain_text("handler keyed")

    # The on-screen keypad, by its accessible names.
    page.get_by_role("button", name="Clear").click()
    for name in ("star", "0", "hash"):
        page.get_by_role("button", name=name, exact=True).click()
    expect(digits).to_have_value("*0#")
    page.get_by_role("button", name="Call", exact=True).click()
    expect(hop.locator(".place")).to_have_text("receptionist 8002 · keys *0#")
    expect(hop.locator(".verdict")).to_have_text("decision: call 2001")

    # The keypad's buttons from the keyboard: Tab to star, Enter and Space press it.
    page.get_by_role("button", name="Clear").click()
    page.get_by_role("button", name="9", exact=True).focus()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.dataset.key") == "*"
    page.keyboard.press("Enter")
    page.keyboard.press(" ")
    expect(digits).to_have_value("**")

    # In the Digits field itself they are typed as text.
    digits.fill("")
    digits.press_sequentially("#0*")
    expect(digits).to_have_value("#0*")
    digits.press("Enter")
    expect(hop.locator(".place")).to_have_text("receptionist 8002 · keys #0*")
    expect(hop.locator(".verdict")).to_have_text("decision: hangup")


def _two_prompts(page: Any) -> None:
    expect = _expect()
    expect(page.locator("#result li.hop .place")).to_have_text(
        ["receptionist 8000 · keys 3", "receptionist 8001 · keys 1"]
    )
    expect(page.locator("#result li.hop .verdict")).to_have_text(
        ["decision: call 8001", "decision: call 2001"]
    )


def test_next_prompt_from_its_key_and_from_space(devapp: tuple[Served, Path], page: Any) -> None:
    served, _ = devapp
    expect = _open(page, served)
    digits = page.get_by_label("Digits")

    # Space, typed anywhere on the page, starts the next prompt.
    page.evaluate("document.activeElement.blur()")
    page.keyboard.type("3 1")
    expect(digits).to_have_value("3 1")
    page.keyboard.press("Enter")
    _two_prompts(page)

    # The "Next prompt" key, reached with Tab and pressed with Enter; then Tab on to Call.
    page.get_by_role("button", name="Clear").click()
    page.evaluate("document.activeElement.blur()")
    page.keyboard.press("3")
    page.get_by_role("button", name="hash").focus()
    page.keyboard.press("Tab")
    assert _focused(page) == "#next"
    page.keyboard.press("Enter")
    page.keyboard.press("1")
    expect(digits).to_have_value("3 1")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert _focused(page) == "#dial"
    page.keyboard.press("Enter")
    _two_prompts(page)

    # Clicked, and pressed twice: one prompt boundary, not an empty prompt.
    page.get_by_role("button", name="Clear").click()
    page.get_by_role("button", name="3", exact=True).click()
    page.get_by_role("button", name="Next prompt").click()
    page.get_by_role("button", name="Next prompt").click()
    page.get_by_role("button", name="1", exact=True).click()
    expect(digits).to_have_value("3 1")
    page.get_by_role("button", name="Call", exact=True).click()
    _two_prompts(page)
    expect(page.locator("#calls li.call").first.locator("li.hop")).to_have_count(2)
