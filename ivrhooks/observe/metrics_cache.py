"""Handlers' caches' Prometheus series (part of :class:`ivrhooks.observe.metrics.Metrics`).

One counter, ``ivrhooks_cache_events_total{cache, event}``: the cache names are the app's own
(declared in code, so few), the events a fixed set. A cache knows nothing of Prometheus: the
app binds it to :meth:`CacheSeries.event` (``report(cache_name, event)``) while it runs.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter

from ivrhooks.errors import InvalidArgumentError

__all__ = ["CACHE_EVENTS", "CacheSeries"]

#: What a cache reports (``ivrhooks.cache.EVENTS``, the same words): each get is a hit, a stale
#: serve or a miss; a load finished with no caller waiting is a background completion; a failed
#: load an error; a background load past the cache's budget is dropped.
CACHE_EVENTS = ("hit", "miss", "stale", "background", "error", "dropped")


class CacheSeries:
    """Events by cache and kind; a cache's series exist at 0 once it is declared."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._events = Counter(
            "ivrhooks_cache_events",
            "Handlers' cache events, by cache and event: hit, stale (served while it is "
            "refreshed), miss, background (a load finished with no caller waiting), error, "
            "dropped (a background load past the cache's budget).",
            ("cache", "event"),
            registry=registry,
        )
        self._children: dict[tuple[str, str], Counter] = {}

    def declare(self, cache: str) -> None:
        """Export the cache's series at 0 before its first event: alerts on rates see them."""
        for event in CACHE_EVENTS:
            if (cache, event) not in self._children:
                self._children[(cache, event)] = self._events.labels(cache, event)

    def event(self, cache: str, event: str) -> None:
        """Count one event; ``event`` is one of :data:`CACHE_EVENTS`."""
        child = self._children.get((cache, event))
        if child is None:
            if event not in CACHE_EVENTS:
                raise InvalidArgumentError(
                    f"cache event {event!r} is not one of {', '.join(CACHE_EVENTS)}"
                )
            child = self._children[(cache, event)] = self._events.labels(cache, event)
        child.inc()
