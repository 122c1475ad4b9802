"""The dev page in a real headless Firefox (Debian's firefox-esr over WebDriver BiDi, see
bidi.py), against the same ``ivrhooks run`` processes as the Chromium tests: the map, digits
keyed on the keyboard, a call placed from outside showing up live, a fallback with its cause,
and the map and the phone driven by the keyboard alone.

Without firefox-esr these tests fail, saying how to install it: the issue asks for the page to
work in Firefox, so a run that cannot show it must not pass.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.devui import bidi
from tests.devui.bidi import Firefox, Tab, firefox
from tests.devui.browser import BROKEN_LINE, Served, ivrhooks_call

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def firefox_browser() -> Iterator[Firefox]:
    with firefox() as browser:
        yield browser


@pytest.fixture
def tab(firefox_browser: Firefox) -> Iterator[Tab]:
    """A Firefox tab; the test fails if the page's scripts threw."""
    opened = firefox_browser.new_tab()
    yield opened
    opened.close()  # answered after every event the tab sent before it: none is missed
    errors = firefox_browser.connection.script_errors(opened.context)
    assert errors == [], "the page's scripts failed"


def _open(tab: Tab, served: Served) -> None:
    tab.navigate(served.page)
    tab.wait_text("#status", "connected: live")
    tab.wait("() => document.querySelectorAll('#map g.route').length > 0", what="the map")


def _blur(tab: Tab) -> None:
    """The focus on no control: keys typed go to the page's keypad."""
    tab.evaluate("document.activeElement.blur()")


def test_the_map_lists_every_route_of_the_quickstart(quickstart: Served, tab: Tab) -> None:
    from quickstart import app

    _open(tab, quickstart)
    lane = '#map g.lane[data-receptionist="8000"]'
    assert tab.text(f"{lane} > text") == "Receptionist 8000"
    assert tab.count(f"{lane} g.route") == len(app.table)
    for route in app.table:
        card = tab.text(f'{lane} g.route[data-route="{route.name}"]') or ""
        assert route.mask.text in card
        assert f"{route.handler.__name__}() · basic auth" in card
        assert route.kind in card
    pills = tab.texts("#map g.pill text")
    for label in ("call 2001", "call 2002", "hang up", "call 2100", "call 2900"):
        assert pills.count(label) == 1, pills
    assert pills.count("call a number it computes") == 1, pills
    assert "Fallback default(): repeat the prompt" in (tab.text("#map g.fallback") or "")
    # Drawn, not only in the DOM: every card's text is laid out inside its card (the texts
    # are fitted with canvas measurements, which Firefox makes with its own fonts).
    outside = tab.call(
        """(s) => [...document.querySelectorAll(s)].flatMap((card) => {
             const box = card.querySelector('rect.card').getBBox();
             return [...card.querySelectorAll('text')]
               .filter((t) => { const b = t.getBBox();
                 return b.width === 0 || b.x < box.x || b.x + b.width > box.x + box.width; })
               .map((t) => t.textContent); })""",
        "#map g.route",
    )
    assert outside == []


def test_keying_digits_on_the_keyboard_and_calling_shows_the_decision(
    quickstart: Served, tab: Tab
) -> None:
    _open(tab, quickstart)
    assert tab.value("#to") == "8000"
    _blur(tab)
    tab.type("1")
    tab.wait_value("#digits", "1")
    tab.keys("Enter")
    hop = "#result li.hop"
    tab.wait_text(f"{hop} .verdict", "decision: call 2001")
    shown = tab.text(hop) or ""
    assert "receptionist 8000 · keys 1" in shown
    assert "handler sales · HTTP 200 ·" in shown
    assert re.search(r"\d+\.\d ms", shown), shown

    # Backspace deletes; Enter calls with what is left.
    tab.click("#clear")
    _blur(tab)
    tab.type("31234")
    tab.keys("Backspace")
    tab.wait_value("#digits", "3123")
    tab.keys("Enter")
    tab.wait_text(f"{hop} .verdict", "decision: call 2123")
    assert "handler account" in (tab.text(hop) or "")

    # The on-screen keypad, clicked with a real pointer.
    tab.click("#clear")
    tab.click('#keypad button[data-key="2"]')
    tab.wait_value("#digits", "2")
    tab.click("#dial")
    tab.wait_text(f"{hop} .verdict", "decision: call 2002")

    # Labelled controls in tab order, the focus visible.
    tab.call("(s) => document.querySelector(s).focus()", "#caller")
    tab.keys("Tab")
    assert tab.focused() == "input#digits"
    assert tab.evaluate("getComputedStyle(document.activeElement).outlineStyle") == "solid"


def test_a_call_placed_from_outside_appears_in_the_live_list(quickstart: Served, tab: Tab) -> None:
    _open(tab, quickstart)
    tab.evaluate("window.sameLoad = true")  # gone if the page were reloaded
    before = tab.count("#calls li.call")
    output = ivrhooks_call(quickstart.pbx, "--to", "8000", "--caller", "5550199", "--digits", "2")
    assert output.startswith("decision: call 2002")
    tab.wait_count("#calls li.call", before + 1)
    newest = "#calls li.call:first-child"
    assert tab.text(f"{newest} .who") == "caller 5550199 → 8000"
    assert tab.text(f"{newest} .verdict") == "decision: call 2002"
    assert "handler support · HTTP 200" in (tab.text(newest) or "")
    tab.wait_count('#map g.pill.taken[data-target="2002"]', 1)
    assert tab.evaluate("window.sameLoad") is True


def test_a_raising_handler_shows_as_a_fallback_with_its_cause(
    devapp: tuple[Served, Path], tab: Tab
) -> None:
    served, app_file = devapp
    _open(tab, served)
    _blur(tab)
    tab.type("7")
    tab.keys("Enter")
    hop = "#result li.hop"
    tab.wait(
        "(s) => document.querySelector(s)?.dataset.outcome", hop, until=lambda o: o == "fallback"
    )
    assert tab.text(f"{hop} .verdict") == "fallback: call 0"
    shown = tab.text(hop) or ""
    assert "route broken · cause: error · ZeroDivisionError" in shown
    assert f"at {app_file}:{BROKEN_LINE}" in shown
    assert "answered by the fallback" in shown


def test_the_map_and_the_phone_from_the_keyboard_alone(
    devapp: tuple[Served, Path], tab: Tab
) -> None:
    served, _ = devapp
    _open(tab, served)
    places = "#result li.hop .place"

    def two_prompts() -> None:
        tab.wait(
            "(s) => [...document.querySelectorAll(s)].map((e) => e.textContent)",
            places,
            until=lambda shown: (
                shown == ["receptionist 8000 · keys 3", "receptionist 8001 · keys 1"]
            ),
            what="two prompts",
        )
        verdicts = tab.texts("#result li.hop .verdict")
        assert verdicts == ["decision: call 8001", "decision: call 2001"]

    # From Call, Tab reaches the map's first route; Enter chooses it, and the focus is back on
    # Call (no call placed yet); back to Next prompt, Space presses it; on to Call, Enter.
    tab.call("(s) => document.querySelector(s).focus()", "#dial")
    tab.keys("Tab")
    assert tab.focused() == "g[data-route=menu]"
    tab.keys("Enter")
    tab.wait_value("#digits", "3")
    assert tab.focused() == "button#dial"
    assert tab.count("#result li") == 0  # choosing is not calling
    tab.keys("Tab", "Tab", holding="Shift")
    assert tab.focused() == "button#next"
    tab.keys("Space", "1")
    tab.wait_value("#digits", "3 1")
    tab.keys("Tab", "Tab")
    assert tab.focused() == "button#dial"
    tab.keys("Enter")
    two_prompts()

    # Space chooses a route too: the one taking any keys, '*' and '#' included.
    tab.keys("Tab", "Tab", "Tab", "Tab")
    assert tab.focused() == "g[data-route=keyed]"
    tab.keys("Space")
    tab.wait_value("#to", "8002")
    assert tab.focused() == "button#dial"
    tab.keys("Backspace", "*", "0", "#")
    tab.wait_value("#digits", "*0#")
    tab.keys("Space")  # on Call: the call
    tab.wait_text(places, "receptionist 8002 · keys *0#")
    assert tab.text("#result li.hop .verdict") == "decision: call 2001"
    assert tab.count("#result li.hop") == 1

    # The keypad's '*' and '#' buttons, clicked.
    tab.click("#clear")
    for key in ("#", "*"):
        tab.click(f'#keypad button[data-key="{key}"]')
    tab.wait_value("#digits", "#*")

    # With the focus on no control, Space starts the next prompt and Enter calls.
    tab.click("#clear")
    tab.call("(s) => { document.querySelector(s).value = '8000'; }", "#to")  # back from 8002
    _blur(tab)
    tab.keys("3", "Space", "1")
    tab.wait_value("#digits", "3 1")
    tab.keys("Enter")
    two_prompts()


def test_without_firefox_esr_the_tests_fail_saying_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(bidi, "FIREFOX", str(tmp_path / "firefox-esr"))
    with pytest.raises(pytest.fail.Exception, match="apt-get install firefox-esr"), firefox():
        pass
