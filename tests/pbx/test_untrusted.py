"""``pbx_text``: the one function PBX-written text passes through before it is shown."""

from __future__ import annotations

import pytest

from ivrhooks.pbx.untrusted import pbx_text

TOKEN = "eyJhbGciOi.J9-payload_x+y/z="
PASSWORD = "pa ss&word/1"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        pytest.param("role Admin", "role Admin", id="plain"),
        pytest.param("\x1b[2J\x1b[H", "\\x1b[2J\\x1b[H", id="ansi"),
        pytest.param("a\rb\nc\td\x00", "a\\x0db\\x0ac\\x09d\\x00", id="c0"),
        pytest.param("del\x7f c1\x9b\x85", "del\\x7f c1\\x9b\\x85", id="del-c1"),
        pytest.param("abc\u202edcba\u2028", "abc\\u202edcba\\u2028", id="bidi-separator"),
        pytest.param("Zürich, 東京", "Zürich, 東京", id="unicode-kept"),
        pytest.param(
            f"Authorization: Bearer {TOKEN}", "Authorization: Bearer [redacted]", id="as-sent"
        ),
        pytest.param(f'{{"token": "{TOKEN}"}}', '{"token": "[redacted]"}', id="json"),
        pytest.param("password=pa+ss%26word%2F1&x=1", "password=[redacted]&x=1", id="form-encoded"),
        pytest.param(f"pw {PASSWORD}!", "pw [redacted]!", id="password"),
        pytest.param("Bearer someone-elses", "Bearer [redacted]", id="any-bearer"),
        pytest.param("a Bearer token, please", "a Bearer token, please", id="bearer-prose"),
        pytest.param("user apiuser", "user apiuser", id="username-kept"),
    ],
)
def test_pbx_text(text: str, shown: str) -> None:
    assert pbx_text(text, secrets=[TOKEN, PASSWORD, None, ""]) == shown


def test_long_text_is_cut_and_says_so() -> None:
    assert pbx_text("x" * 1000, limit=10) == "x" * 10 + "…(truncated)"
    # An escape is never cut in half, and counts as what it shows.
    assert pbx_text("\x1b" * 10, limit=9) == "\\x1b\\x1b…(truncated)"
    assert pbx_text("x" * 1000, limit=None) == "x" * 1000


def test_a_secret_is_redacted_before_the_cut() -> None:
    # Cut first and a prefix of the token would survive the cut, unrecognised.
    shown = pbx_text("y" * 295 + TOKEN, secrets=[TOKEN])
    assert TOKEN[:8] not in shown and shown.endswith("…(truncated)")
