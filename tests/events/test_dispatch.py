"""The dispatcher calls each event's handlers once, and counts what ivrhooks does not know."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from ivrhooks.events.dispatch import Dispatcher


@dataclass(frozen=True)
class Stored:
    kind: str
    body: dict[str, Any]
    attempt: int = 1


@pytest.mark.parametrize(
    ("event_type", "unknown"),
    [("call_cdr", 0), ("call_parked", 1), ("", 1), ("*", 1)],
    ids=["documented", "undocumented", "none", "star"],
)
async def test_a_type_nobody_documents_is_counted_and_star_handlers_get_it_once(
    event_type: str, unknown: int
) -> None:
    seen: list[str] = []
    reports: list[str] = []

    async def every(event: Any) -> None:
        seen.append(event.type)

    # "*" handlers get every type; one declared twice runs once.
    dispatch = Dispatcher({"*": [every], "call_cdr": [every]}, report=reports.append)
    await dispatch(Stored("cdr", {"event_type": event_type, "session_id": "1"}))
    assert seen == [event_type]
    assert reports.count("unknown_type") == unknown
