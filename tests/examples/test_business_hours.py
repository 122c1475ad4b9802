"""The business-hours example routes by the office's local time."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from ivrhooks.cli.loader import load_app

EXAMPLE = str(Path(__file__).parents[2] / "examples" / "business_hours.py")


@pytest.mark.parametrize(
    ("utc", "digits", "destination"),
    [
        (datetime(2026, 11, 26, 10, 0, tzinfo=UTC), "1", "2001"),  # Thu 11:00 Berlin
        (datetime(2026, 11, 26, 16, 30, tzinfo=UTC), "1", "2901"),  # Thu 17:30 Berlin
        (datetime(2026, 11, 28, 10, 0, tzinfo=UTC), "2", "2999"),  # Saturday
        (datetime(2026, 12, 25, 10, 0, tzinfo=UTC), "2", "2999"),  # a holiday
        (datetime(2026, 7, 1, 7, 30, tzinfo=UTC), "2", "2002"),  # 09:30 in summer time
    ],
    ids=["open", "after-close", "weekend", "holiday", "summer-time"],
)
async def test_routing_follows_office_hours(utc: datetime, digits: str, destination: str) -> None:
    app = load_app(EXAMPLE)
    import business_hours  # loaded by load_app from the examples directory

    business_hours.clock = lambda: utc
    route = app.table.lookup("8000", "DTMF", digits)
    assert route is not None
    creds = app.credentials_for(route[0])
    assert creds is not None
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://pbx") as client:
        r = await client.post(  # the example registers POST, the default
            app.path_of(route[0]),
            json={"from": "101", "to": "8000", "input": digits},
            auth=(creds.username, creds.password),
        )
    assert r.json()["destination"] == destination
