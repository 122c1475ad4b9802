"""Deadline-aware caches for handlers: ``app.cache(name, ttl=..., stale=...)``, then ``await
cache.get(key, loader)`` in a handler. See :mod:`ivrhooks.cache.cache` and docs/cache.md.

Imports the standard library, :mod:`ivrhooks.errors` and (for types only) the store protocol:
a cache works in a unit test that calls a handler directly, with its process tier alone.
"""

from __future__ import annotations

from ivrhooks.cache.cache import EVENTS, Cache, Loader, Report
from ivrhooks.cache.values import JSON

__all__ = ["EVENTS", "JSON", "Cache", "Loader", "Report"]
