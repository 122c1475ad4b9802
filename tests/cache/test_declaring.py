"""``app.cache(...)``: declared before the app starts, named once, numbers checked; bound to the
running app's metrics; usable in a unit test that calls a handler directly."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from ivrhooks import ActionRequest, ConfigurationError, IVRHooks, call
from ivrhooks.cache import EVENTS, Cache
from ivrhooks.observe.metrics_cache import CACHE_EVENTS
from ivrhooks.testing import running
from tests.cache.helpers import Source


def test_a_cache_is_declared_on_the_app() -> None:
    app = IVRHooks(["8000"], env=False)
    cache = app.cache("managers", ttl=60, stale=600, miss_ttl=5, maxsize=100, load_timeout=2)
    assert isinstance(cache, Cache)
    assert (cache.name, cache.ttl, cache.stale, cache.miss_ttl) == ("managers", 60, 600, 5)
    assert (cache.maxsize, cache.load_timeout) == (100, 2)
    assert (Cache("d").ttl, Cache("d").stale, Cache("d").miss_ttl) == (300, 3600, 30)
    assert (Cache("d").maxsize, Cache("d").load_timeout) == (10_000, 10)


def test_a_name_is_declared_once() -> None:
    app = IVRHooks(["8000"], env=False)
    app.cache("managers")
    with pytest.raises(ConfigurationError, match="already has a cache named 'managers'"):
        app.cache("managers", ttl=1)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"ttl": 0}, "ttl=0: must be a number of seconds, more than 0"),
        ({"ttl": True}, "ttl=True: must be a number of seconds"),
        ({"ttl": "300"}, "ttl='300': must be a number of seconds"),
        ({"stale": -1}, "stale=-1: must be a number of seconds, at least 0"),
        ({"miss_ttl": float("inf")}, "miss_ttl=inf: must be a number of seconds"),
        ({"maxsize": 0}, "maxsize=0: must be a whole number, at least 1"),
        ({"maxsize": 10.5}, "maxsize=10.5: must be a whole number"),
        ({"load_timeout": 0}, "load_timeout=0: must be a number of seconds, more than 0"),
        ({"name": ""}, "cache name '': use 1 to 64 ASCII letters"),
        ({"name": "a b"}, "cache name 'a b': use 1 to 64 ASCII letters"),
    ],
    ids=lambda v: next(iter(v)) if isinstance(v, dict) else None,
)
def test_a_bad_argument_is_refused_naming_it(kwargs: dict[str, Any], message: str) -> None:
    app = IVRHooks(["8000"], env=False)
    name = kwargs.pop("name", "managers")
    with pytest.raises(ConfigurationError) as caught:
        app.cache(name, **kwargs)
    assert str(caught.value).startswith(message)
    if name == "managers":
        app.cache(name)  # nothing was declared by the refused call


def test_no_cache_is_added_once_the_app_is_built() -> None:
    app = IVRHooks(["8000"], env=False)
    app.build()
    with pytest.raises(ConfigurationError, match="cannot add a cache: the app has started"):
        app.cache("managers")


def test_the_events_are_the_metrics_words() -> None:
    assert EVENTS == CACHE_EVENTS


def _app() -> tuple[IVRHooks, Source]:
    app = IVRHooks(["8000"], env=False)
    managers = app.cache("managers")
    crm = Source({"ext": "2001"})

    @app.dtmf("1")
    async def sales(req: ActionRequest) -> object:
        team = await managers.get("sales", crm)
        return call(team["ext"])

    return app, crm


async def test_a_handler_called_directly_uses_the_process_tier_alone() -> None:
    # A unit test of the handler: no app running, no store, no metrics.
    app, crm = _app()
    (route,) = app.routes
    fields = {"from": "101", "to": "8000", "digits": "1"}
    request = ActionRequest.from_fields(fields, kind="DTMF", method="GET")
    assert (await route.handler(request)).destination == "2001"
    assert (await route.handler(request)).destination == "2001"
    assert crm.calls == 1


async def test_a_running_app_counts_its_cache_events_in_its_metrics() -> None:
    app, crm = _app()
    async with running(app) as harness:
        async with httpx.AsyncClient() as http:
            before = (await http.get(harness.url + "/metrics")).text
        for _ in range(3):
            result = await harness.dial("8000", "101", "1")
            assert result.decision is not None and result.decision.get("destination") == "2001"
        async with httpx.AsyncClient() as http:
            after = (await http.get(harness.url + "/metrics")).text
    assert crm.calls == 1
    assert _events(before) == {event: 0.0 for event in CACHE_EVENTS}, "exported at 0 at start"
    assert _events(after) == {**{event: 0.0 for event in CACHE_EVENTS}, "miss": 1.0, "hit": 2.0}


def _events(text: str) -> dict[str, float]:
    return {
        sample.labels["event"]: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "ivrhooks_cache_events_total" and sample.labels["cache"] == "managers"
    }
