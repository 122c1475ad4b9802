"""What the receiving-side tests share: an app served on loopback with the fake PBX's event URLs
pointed at it (as a tenant's Company → Event URL would be), the credentials the PBX sends there,
the app's ``ivrhooks_events_total`` read from ``/metrics``, and a bounded wait."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from ivrhooks.core.auth import derive_credentials
from ivrhooks.events import EventKind, event_digest
from ivrhooks.fakepbx.webhooks import SentEvent
from ivrhooks.manifest import EVENT_PATHS, EVENT_ROUTES
from ivrhooks.testing import FakePBX, RunningApp

__all__ = [
    "basic_auth",
    "delivered",
    "digests",
    "outcomes",
    "point_events",
    "quiet",
    "served",
    "until",
]


async def until(check: Callable[[], object], limit: float = 10.0) -> None:
    """Wait until ``check()`` (or what it awaits) is true: a bounded poll for work that runs in
    the background (the inbox's handlers, another process)."""
    deadline = time.monotonic() + limit
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


def basic_auth(secret: str, kind: EventKind) -> httpx.BasicAuth:
    """What the tenant's ``kind`` event URL sends: the app's Basic credentials for it."""
    creds = derive_credentials(secret, EVENT_ROUTES[kind])
    return httpx.BasicAuth(creds.username, creds.password)


def point_events(pbx: FakePBX, url: str, secret: str, *, auth: str = "BASIC") -> None:
    """Point the fake tenant's two event URLs at the app at ``url``."""
    for kind in ("cdr", "extension"):
        creds = derive_credentials(secret, EVENT_ROUTES[kind])
        fields: dict[str, Any] = {"auth": auth}
        if auth == "BEARER":
            fields["token"] = creds.token
        elif auth != "DISABLE":
            fields.update(username=creds.username, password=creds.password)
        pbx.set_event_url(kind, url + EVENT_PATHS[kind], **fields)


def served(r: RunningApp) -> RunningApp:
    """``r`` with the fake's event URLs pointed at it (Basic, as the app's default scheme)."""
    point_events(r.pbx, r.url, r.runtime.config.secret)
    return r


async def outcomes(url: str) -> dict[str, float]:
    """``ivrhooks_events_total`` by outcome, as ``/metrics`` serves it."""
    async with httpx.AsyncClient(timeout=5) as http:
        text = (await http.get(url + "/metrics")).text
    return {
        sample.labels["outcome"]: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "ivrhooks_events_total"
    }


async def quiet(url: str, limit: float = 10.0) -> dict[str, float]:
    """Wait until every event the app stored has reached its end (handled or dead); the
    outcomes then."""
    found: dict[str, float] = {}

    async def done() -> bool:
        found.update(await outcomes(url))
        return found["accepted"] == found["handled"] + found["dead"]

    await until(done, limit)
    return found


def digests(sent: list[SentEvent]) -> set[str]:
    """The distinct events among ``sent`` (by content, as the receiver recognises them)."""
    return {event_digest(s.kind, s.body) for s in sent}


def delivered(sent: list[SentEvent]) -> Mapping[str, bool]:
    """Each distinct event: whether some attempt at it was answered 200."""
    found: dict[str, bool] = {}
    for s in sent:
        digest = event_digest(s.kind, s.body)
        found[digest] = found.get(digest, False) or s.delivered
    return found
