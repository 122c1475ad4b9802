"""normalize_presence reads PortSIP's three vocabularies; nothing unknown is ever "available"."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ivrhooks.events import normalize_presence

CASES: list[tuple[dict[str, Any], str | None]] = [
    # REST GET /users/{id}/status (OpenAPI)
    ({"status": "ONLINE"}, "available"),
    ({"status": "ON_CALL"}, "busy"),
    ({"status": "OFFLINE"}, "offline"),
    ({"status": "ONLINE", "presence": "DO_NOT_DISTURB"}, "dnd"),
    ({"status": "ONLINE", "presence": "AVAILABLE"}, "available"),
    ({"status": "ONLINE", "presence": "AWAY"}, "away"),
    ({"status": "ONLINE", "presence": "BUSINESS_TRIP"}, "away"),
    ({"status": "ONLINE", "presence": "LUNCH"}, "away"),
    ({"status": "ONLINE", "presence": "ON_CALL"}, "busy"),
    ({"status": "ONLINE", "presence": "OFFLINE"}, "offline"),
    # v22.3.0 changes
    ({"status": "OTHER_CALL"}, "busy"),
    ({"presence": "ONLINE"}, "available"),
    ({"presence": "OTHER_CALL"}, "busy"),
    ({"presence": "RINGING"}, "ringing"),
    # the WebSocket feed
    ({"call_status": "ON_CALL", "online": True, "presence": "ONLINE"}, "busy"),
    ({"call_status": "ON_ACLL", "online": True, "presence": "AWAY"}, "busy"),
    ({"call_status": "RINGING", "online": True}, "ringing"),
    ({"call_status": "", "online": True, "presence": "ONLINE"}, "available"),
    ({"call_status": "", "online": True}, "available"),
    ({"call_status": "", "online": False, "presence": "ONLINE"}, "offline"),
    ({"online": False, "push_online": True, "presence": "ONLINE"}, "available"),
    ({"online": False, "push_online": False}, "offline"),
    ({"online": "false"}, "offline"),
    ({"online": 1, "presence": "LUNCH"}, "away"),
    # lenient spelling
    ({"presence": "do not disturb"}, "dnd"),
    ({"presence": " Do-Not-Disturb "}, "dnd"),
    ({"status": "on_call"}, "busy"),
    # nothing known: not available
    ({}, None),
    ({"call_status": ""}, None),
    ({"presence": "MEDITATING"}, None),
    ({"status": "ONLINE", "presence": "MEDITATING"}, None),
    ({"status": "SLEEPING"}, None),
    ({"status": "SLEEPING", "presence": "AVAILABLE"}, None),
    ({"presence": 3, "status": ["ONLINE"]}, None),
    ({"online": "maybe"}, None),
    # but a known "cannot take a call" wins over an unknown word
    ({"status": "SLEEPING", "presence": "AWAY"}, "away"),
    ({"status": "ON_CALL", "presence": "MEDITATING"}, "busy"),
]


@pytest.mark.parametrize(("fields", "expected"), CASES, ids=[str(c[0]) for c in CASES])
def test_the_documented_vocabularies(fields: dict[str, Any], expected: str | None) -> None:
    assert normalize_presence(**fields) == expected


KNOWN_IDLE = {"ONLINE", "AVAILABLE", "IDLE", "READY"}


@given(
    status=st.none() | st.text(max_size=10),
    call_status=st.none() | st.text(max_size=10),
    presence=st.none() | st.text(max_size=10),
    online=st.none() | st.booleans() | st.text(max_size=5),
)
def test_an_unknown_word_never_reads_as_available(
    status: str | None, call_status: str | None, presence: str | None, online: object
) -> None:
    found = normalize_presence(
        status=status, call_status=call_status, presence=presence, online=online
    )
    if found == "available":
        given = [w for w in (status, call_status, presence) if w and w.strip()]
        words = ["_".join(w.upper().replace("-", " ").split()) for w in given]
        assert all(w in KNOWN_IDLE for w in words), (status, call_status, presence)
