"""One load per key, loads that outlive their callers, errors and misses: the process tier
alone (no app, no store), with an injected clock where time matters."""

from __future__ import annotations

import asyncio
import logging

import pytest

from ivrhooks.cache import Cache
from tests.cache.helpers import Clock, Events, Source, settle


async def test_fifty_concurrent_callers_share_one_load() -> None:
    cache = Cache("managers")
    events = Events()
    cache.bind(None, report=events)
    source = Source({"team": ["2001", "2002"]}, gated=True)
    callers = [asyncio.create_task(cache.get("sales", source)) for _ in range(50)]
    await settle()
    assert source.calls == 1, "every caller waits for the one load"
    source.gate.set()
    results = await asyncio.gather(*callers)
    assert results == [{"team": ["2001", "2002"]}] * 50
    assert source.calls == 1
    assert await cache.get("sales", source) == {"team": ["2001", "2002"]}
    assert source.calls == 1
    assert events.of("managers") == {"miss": 50, "hit": 1}


async def test_a_load_outlives_the_deadline_that_cancelled_its_caller_and_fills_the_cache() -> None:
    cache = Cache("managers")
    events = Events()
    cache.bind(None, report=events)
    source = Source({"team": ["2001"]}, delay=0.2)

    async def handler() -> object:
        # As the runner runs a handler: under its deadline (core/runner.py).
        async with asyncio.timeout(0.05):
            return await cache.get("sales", source)

    with pytest.raises(TimeoutError):
        await handler()
    assert source.cancelled == 0, "the deadline cancelled the caller, not the load"
    await events.wait_for("managers", "background")
    assert await cache.get("sales", source) == {"team": ["2001"]}
    assert source.calls == 1, "the next call is a hit: no second load"
    assert events.of("managers") == {"miss": 1, "background": 1, "hit": 1}


async def test_a_caller_that_leaves_never_cancels_the_load_another_waits_for() -> None:
    cache = Cache("managers")
    source = Source("2001", gated=True)
    patient = asyncio.create_task(cache.get("sales", source))
    hasty = asyncio.create_task(cache.get("sales", source))
    await settle()
    hasty.cancel()
    await settle()
    source.gate.set()
    assert await patient == "2001"
    with pytest.raises(asyncio.CancelledError):
        await hasty
    assert (source.calls, source.cancelled) == (1, 0)


async def test_an_error_reaches_every_waiter_and_is_not_kept() -> None:
    cache = Cache("managers")
    events = Events()
    cache.bind(None, report=events)
    source = Source(error=ConnectionError("CRM unreachable"), gated=True)
    callers = [asyncio.create_task(cache.get("sales", source)) for _ in range(5)]
    await settle()
    source.gate.set()
    results = await asyncio.gather(*callers, return_exceptions=True)
    assert [type(r) for r in results] == [ConnectionError] * 5
    assert source.calls == 1
    assert len(cache) == 0, "an error is not cached"
    source.error = None
    source.value = {"team": []}
    assert await cache.get("sales", source) == {"team": []}
    assert source.calls == 2
    assert events.of("managers") == {"miss": 6, "error": 1}


async def test_a_background_load_that_fails_is_logged_and_leaves_no_unretrieved_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    cache = Cache("managers")
    events = Events()
    cache.bind(None, report=events)
    source = Source(error=ConnectionError("CRM unreachable"), delay=0.1)
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.01):
            await cache.get("sales", source)
    with caplog.at_level(logging.WARNING, logger="ivrhooks.cache"):
        await events.wait_for("managers", "error")
        await settle()
    assert "cache 'managers': a background load failed: ConnectionError" in caplog.text
    # The autouse fixture fails the test on "Future exception was never retrieved".


async def test_a_miss_is_kept_for_miss_ttl_and_never_served_stale() -> None:
    clock = Clock()
    cache = Cache("accounts", ttl=300, stale=3600, miss_ttl=30, clock=clock)
    source = Source(None)
    assert await cache.get("4321", source) is None
    clock.advance(29)
    assert await cache.get("4321", source) is None
    assert source.calls == 1, "a miss is cached for miss_ttl"
    clock.advance(2)
    source.value = {"name": "Ada"}
    source.gate.clear()
    waiting = asyncio.create_task(cache.get("4321", source))
    await settle()
    assert not waiting.done(), "an expired miss waits for the load: no stale None"
    source.gate.set()
    assert await waiting == {"name": "Ada"}
    assert source.calls == 2


async def test_miss_ttl_zero_keeps_no_miss() -> None:
    cache = Cache("accounts", miss_ttl=0)
    source = Source(None)
    assert await cache.get("4321", source) is None
    assert await cache.get("4321", source) is None
    assert source.calls == 2


async def test_load_timeout_bounds_a_load() -> None:
    cache = Cache("managers", load_timeout=0.05)
    source = Source("never", gated=True)
    with pytest.raises(TimeoutError, match=r"cache 'managers': .* load_timeout=0\.05 s"):
        await cache.get("sales", source)
    assert source.cancelled == 1
    assert len(cache) == 0


async def test_a_loaders_own_timeout_error_passes_as_it_is() -> None:
    cache = Cache("managers")
    with pytest.raises(TimeoutError, match=r"^the CRM's own$"):
        await cache.get("sales", Source(error=TimeoutError("the CRM's own")))


async def test_background_loads_are_bounded_and_the_rest_dropped() -> None:
    cache = Cache("managers", max_background=1)
    events = Events()
    cache.bind(None, report=events)
    first, second = Source("a", gated=True), Source("b", gated=True)
    for key, source in (("first", first), ("second", second)):
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.01):
                await cache.get(key, source)
    await settle()
    assert first.cancelled == 0, "the first load goes on in the background"
    assert second.cancelled == 1, "past max_background, a load its callers left is cancelled"
    assert events.of("managers") == {"miss": 2, "dropped": 1}
    first.gate.set()
    await events.wait_for("managers", "background")
    assert await cache.get("first", first) == "a"
    assert first.calls == 1


async def test_a_stale_value_is_served_at_once_and_refreshed_behind_it_once() -> None:
    clock = Clock()
    cache = Cache("managers", ttl=300, stale=3600, clock=clock)
    events = Events()
    cache.bind(None, report=events)
    assert await cache.get("sales", Source(["2001"])) == ["2001"]
    clock.advance(301)
    refresh = Source(["2002"], gated=True)
    # Served at once, though the refresh cannot finish: the loader's gate is closed.
    assert await cache.get("sales", refresh) == ["2001"]
    assert await cache.get("sales", refresh) == ["2001"]
    await settle()
    assert refresh.calls == 1, "one refresh at a time"
    refresh.gate.set()
    await events.wait_for("managers", "background")
    assert await cache.get("sales", refresh) == ["2002"]
    assert refresh.calls == 1
    assert events.of("managers") == {"miss": 1, "stale": 2, "background": 1, "hit": 1}


async def test_past_its_stale_window_a_value_waits_for_a_load() -> None:
    clock = Clock()
    cache = Cache("managers", ttl=300, stale=60, clock=clock)
    await cache.get("sales", Source(["2001"]))
    clock.advance(361)
    again = Source(["2002"], gated=True)
    waiting = asyncio.create_task(cache.get("sales", again))
    await settle()
    assert not waiting.done()
    again.gate.set()
    assert await waiting == ["2002"]


async def test_invalidate_forgets_a_key_and_a_load_under_way_keeps_nothing() -> None:
    cache = Cache("managers")
    await cache.get("sales", Source(["2001"]))
    cache.invalidate("sales")
    slow = Source(["old"], gated=True)
    waiting = asyncio.create_task(cache.get("sales", slow))
    await settle()
    cache.invalidate("sales")  # while it loads: its callers get it, the cache keeps nothing
    slow.gate.set()
    assert await waiting == ["old"]
    fresh = Source(["2003"])
    assert await cache.get("sales", fresh) == ["2003"]
    assert (slow.calls, fresh.calls) == (1, 1)


async def test_unbind_cancels_the_loads_still_running() -> None:
    cache = Cache("managers")
    source = Source("x", gated=True)
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.01):
            await cache.get("sales", source)
    await cache.unbind()
    assert source.cancelled == 1


async def test_a_failed_refresh_keeps_the_stale_value_and_leaves_no_unretrieved_error() -> None:
    clock = Clock()
    cache = Cache("managers", ttl=300, stale=3600, clock=clock)
    events = Events()
    cache.bind(None, report=events)
    await cache.get("sales", Source(["2001"]))
    clock.advance(301)
    failing = Source(error=ConnectionError("CRM unreachable"))
    assert await cache.get("sales", failing) == ["2001"]
    await events.wait_for("managers", "error")
    assert await cache.get("sales", failing) == ["2001"], "still served while it is stale"
    await events.wait_for("managers", "error", 2)
    assert failing.calls == 2, "each stale serve tries the refresh again, one at a time"
    # The autouse fixture fails the test on "Future exception was never retrieved".
