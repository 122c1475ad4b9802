"""Cross-request state behind one seam: in this process's memory, or in Redis for replicas.

See :mod:`ivrhooks.store.base` for the operations. :func:`open_store` picks the implementation
from the configuration: Redis when ``IVRHOOKS_REDIS_URL`` is set (wrapped so that a failing
Redis never stops calls being answered), memory otherwise.
"""

from __future__ import annotations

from collections.abc import Callable

from ivrhooks.store.base import Mark, Store, StoreError
from ivrhooks.store.memory import MemoryStore
from ivrhooks.store.resilient import FallbackStore

__all__ = ["FallbackStore", "Mark", "MemoryStore", "Store", "StoreError", "open_store"]


def open_store(
    redis_url: str | None,
    *,
    connect_timeout: float = 0.25,
    timeout: float = 0.25,
    max_connections: int = 32,
    on_fallback: Callable[[str], None] | None = None,
    on_error: Callable[[str], None] | None = None,
    on_op: Callable[[str, float, bool], None] | None = None,
) -> Store:
    """The store for a configuration: memory, or Redis with a per-process fallback.

    The callbacks report on the Redis store only (see :class:`FallbackStore`)."""
    if not redis_url:
        return MemoryStore()
    from ivrhooks.store.redis import RedisStore  # the optional extra: imported only when used

    primary = RedisStore(
        redis_url,
        connect_timeout=connect_timeout,
        timeout=timeout,
        max_connections=max_connections,
    )
    return FallbackStore(primary, on_fallback=on_fallback, on_error=on_error, on_op=on_op)
