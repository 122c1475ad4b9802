"""Where a fake PBX sends calls (:mod:`ivrhooks.fakepbx.targets`): a table of URLs, read as httpx
reads them (the parser that sends the request)."""

from __future__ import annotations

import pytest

from ivrhooks.fakepbx.targets import LOOPBACK, Targets

APP = Targets(bases=("http://127.0.0.1:8080/ivr",), loopback=False, how="HOW")


@pytest.mark.parametrize(
    ("targets", "url", "sent"),
    [
        pytest.param(LOOPBACK, "http://127.0.0.1:9/x", True, id="loopback-v4"),
        pytest.param(LOOPBACK, "http://127.8.9.10/x", True, id="loopback-net"),
        pytest.param(LOOPBACK, "https://[::1]:8443/x", True, id="loopback-v6"),
        pytest.param(LOOPBACK, "http://[::ffff:127.0.0.1]/x", True, id="v4-mapped-loopback"),
        pytest.param(LOOPBACK, "http://LOCALHOST:8080/x", True, id="localhost"),
        pytest.param(LOOPBACK, "http://10.0.0.5/admin", False, id="lan"),
        pytest.param(LOOPBACK, "http://169.254.169.254/latest/meta-data", False, id="metadata"),
        pytest.param(LOOPBACK, "http://0.0.0.0:8080/x", False, id="unspecified"),
        pytest.param(LOOPBACK, "http://2130706433/x", False, id="integer-address"),
        pytest.param(LOOPBACK, "http://127.0.0.1.nip.io/x", False, id="name-resolving-anywhere"),
        pytest.param(LOOPBACK, "http://127.0.0.1:80@evil.example/x", False, id="userinfo-trick"),
        pytest.param(LOOPBACK, "file:///etc/passwd", False, id="file"),
        pytest.param(LOOPBACK, "not a url", False, id="garbage"),
        pytest.param(APP, "http://127.0.0.1:8080/ivr/hooks/sales", True, id="under-the-app"),
        pytest.param(APP, "http://127.0.0.1:8080/ivr", True, id="the-app-itself"),
        pytest.param(APP, "http://127.0.0.1:8080/ivrx/hooks", False, id="a-lookalike-path"),
        pytest.param(APP, "http://127.0.0.1:8081/ivr/hooks", False, id="another-loopback-port"),
        pytest.param(APP, "https://127.0.0.1:8080/ivr/hooks", False, id="another-scheme"),
        pytest.param(APP, "http://localhost:8080/ivr/hooks", False, id="another-name"),
        pytest.param(
            Targets(bases=("https://tunnel.example",), loopback=False),
            "https://TUNNEL.example:443/hooks/sales",
            True,
            id="default-port",
        ),
        pytest.param(Targets(anywhere=True), "http://10.0.0.5/admin", True, id="anywhere"),
    ],
)
def test_where_calls_go(targets: Targets, url: str, sent: bool) -> None:
    assert (targets.refusal(url) is None) is sent


def test_a_refusal_says_where_calls_go_and_what_to_change() -> None:
    assert APP.refusal("http://10.0.0.5/admin?x=1") == (
        "http://10.0.0.5:80 is outside where this fake PBX sends calls "
        "(http://127.0.0.1:8080/ivr); HOW"
    )
