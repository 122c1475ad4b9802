"""A captured line read back: whatever the PBX put in a field, one request per line, each field
as written, and what was masked said so."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from ivrhooks.core.decisions import call, repeat
from ivrhooks.core.request import ActionRequest
from ivrhooks.core.runner import Outcome
from ivrhooks.observe.capture import capture_line
from ivrhooks.observe.captured import read_capture
from ivrhooks.observe.logs import mask_number

# Quotes, a backslash, control characters, and U+2028 / U+0085, which str.splitlines() takes
# for line ends although JSON carries them as they are.
ODD = {
    "from": '+49"151\\2\n',
    "to": "8000",
    "input": "1\u2028#\x85",
    "from_name": 'Zoë "Z" \x00',
    "account_name": "Récep\ttion",
    "session_id": "123456789",
    "x_unknown": "never written",
}
WHEN = datetime(2026, 11, 26, 10, 0, 0, 250000, tzinfo=UTC).timestamp()


@pytest.mark.parametrize(
    ("callers", "digits", "masked"),
    [
        (False, True, ["from", "from_name"]),
        (True, True, []),
        (False, False, ["from", "input", "from_name"]),
    ],
    ids=["default", "callers", "no-digits"],
)
def test_any_field_the_pbx_sends_reads_back_as_written(
    tmp_path: Path, callers: bool, digits: bool, masked: list[str]
) -> None:
    request = ActionRequest.from_fields(ODD, kind="DTMF", method="GET", route="menu")
    path = tmp_path / "odd.jsonl"
    outcomes = [Outcome(call("2001"), "route"), Outcome(repeat(), "fallback", cause="timeout")]
    path.write_text(
        "".join(
            capture_line(request, outcome, 0.25, now=WHEN, callers=callers, digits=digits)
            for outcome in outcomes
        ),
        encoding="utf-8",
    )
    read = read_capture(path)
    assert read.unreadable == [] and len(read.requests) == 2
    first, second = read.requests
    assert first.time == datetime(2026, 11, 26, 10, 0, tzinfo=UTC)  # when it arrived
    assert (first.route, first.action, first.destination, first.cause) == (
        "menu",
        "call",
        "2001",
        None,
    )
    assert (second.action, second.destination, second.cause, second.answered_by) == (
        "repeat",
        None,
        "timeout",
        "fallback",
    )
    assert sorted(first.masked) == sorted(masked)
    expected = {k: v for k, v in ODD.items() if k != "x_unknown"}
    if not callers:
        expected["from"] = mask_number(ODD["from"]) or ""
        del expected["from_name"]
    if not digits:
        expected["input"] = "****"
    assert first.fields == expected
