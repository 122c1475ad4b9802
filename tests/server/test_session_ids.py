"""A ``session_id`` that is not PortSIP-shaped is no session_id (issue 23, finding 9: one of
8 KiB was kept in the store key and written into every log line and span of the call).

Through the served app, called by the fake PBX as PortSIP calls it; the log lines as the JSON
formatter writes them, the spans as an exporter receives them.
"""

from __future__ import annotations

import logging

import pytest

from ivrhooks import ActionRequest, IVRHooks, call, hangup
from ivrhooks.observe.logformat import JSONFormatter
from ivrhooks.testing import running
from tests.tracing.conftest import Spans

OVERSIZED = "A1b2" * 1900  # as much as fits in a request body (8 KiB), all harmless characters


@pytest.mark.parametrize(
    ("session_id", "accepted", "why"),
    [
        ("1234567890123456789", True, ""),  # a snowflake, as PortSIP's CDR examples
        ("call-7.a_b:c", True, ""),
        ("x" * 128, True, ""),
        ("x" * 129, False, "129 characters"),
        (OVERSIZED, False, "7600 characters"),
        ("call 7", False, "characters outside"),
        ("ünïcode", False, "characters outside"),
        ("../../etc", False, "characters outside"),
    ],
    ids=["snowflake", "punctuation", "128", "129", "7600", "space", "non-ascii", "slashes"],
)
async def test_only_a_portsip_shaped_session_id_gives_the_call_a_session(
    caplog: pytest.LogCaptureFixture, session_id: str, accepted: bool, why: str
) -> None:
    spans = Spans()
    app = IVRHooks(receptionists=["8000"], tracing=spans.provider, env=False)
    seen: list[str | None] = []

    @app.dtmf("1")
    async def sales(req: ActionRequest) -> object:
        seen.append(req.session_id)
        session = await req.session()
        session["visits"] = 1
        return call("2001")

    @app.fallback
    async def fallback(req: ActionRequest) -> object:
        return hangup()

    caplog.set_level(logging.INFO)
    async with running(app) as served:
        result = await served.pbx.dial(
            to="8000", caller="5551234", digits="1", session_id=session_id
        )
    spans.provider.shutdown()
    lines = [JSONFormatter().format(record) for record in caplog.records]
    refused = [line for line in lines if "session_id was refused" in line]
    if accepted:
        assert (result.action, result.destination) == ("call", "2001")
        assert seen == [session_id] and refused == []
        return
    # The handler ran, without a session; the fallback answered; one line says why.
    assert seen == [None]
    assert result.action == "hangup"
    assert len(refused) == 1 and why in refused[0]
    assert '"logger": "ivrhooks.handler"' in refused[0]
    # Not one log line (the request line included) nor any span carries what was sent.
    for line in lines:
        assert session_id not in line
    assert session_id not in spans.text()
    [request_line] = [line for line in lines if '"event": "request"' in line]
    assert '"session_id": null' in request_line
