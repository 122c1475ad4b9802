"""``RedisStore``: the store in Redis, shared by every replica (``IVRHOOKS_REDIS_URL``).

redis-py's asyncio client (the ``ivrhooks[redis]`` extra), configured for a service that must
answer a PBX within 1.5 s: connect and read timeouts of a quarter second, a bounded blocking
connection pool, and no automatic retries (redis-py retries three times by default; a request
in a live call cannot wait for that, and the caller of the store decides what a failure means).
Compound operations are Lua scripts, atomic in Redis. A command cancelled by the request's
deadline drops its connection instead of leaving it one reply behind (the redis-py 4.5.x bug of
CVE-2023-28858/28859; ivrhooks requires a version with the fix).
"""

from __future__ import annotations

import asyncio
from typing import Any

from ivrhooks.errors import ConfigurationError
from ivrhooks.store.base import Mark, StoreError

__all__ = ["RedisStore"]

# KEYS[1] = key; ARGV: old-present (0/1), old, new-present (0/1), new, ttl ms.
_SWAP = """
local current = redis.call('GET', KEYS[1])
if ARGV[1] == '1' then
  if current ~= ARGV[2] then return 0 end
elseif current then
  return 0
end
if ARGV[3] == '1' then
  redis.call('SET', KEYS[1], ARGV[4], 'PX', ARGV[5])
else
  redis.call('DEL', KEYS[1])
end
return 1
"""

_INCR = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n
"""

_RAISE = """
local n = tonumber(redis.call('GET', KEYS[1]) or '') or -1
local v = tonumber(ARGV[1])
if v > n then n = v end
redis.call('SET', KEYS[1], n, 'PX', ARGV[2])
return n
"""

# A sliding window of seen numbers: KEYS[1] the highest number, KEYS[2] a bitmap indexed by
# number mod window. ARGV: number, window, ttl ms. Returns 0 new, 1 seen, 2 older than window.
_MARK = """
local n = tonumber(ARGV[1])
local w = tonumber(ARGV[2])
local high = tonumber(redis.call('GET', KEYS[1]) or '0')
if high > 0 and n <= high - w then return 2 end
if n > high then
  if high == 0 or n - high >= w then
    redis.call('DEL', KEYS[2])
  else
    for i = high + 1, n - 1 do redis.call('SETBIT', KEYS[2], i % w, 0) end
  end
  redis.call('SET', KEYS[1], n, 'PX', ARGV[3])
  redis.call('SETBIT', KEYS[2], n % w, 1)
  redis.call('PEXPIRE', KEYS[2], ARGV[3])
  return 0
end
if redis.call('SETBIT', KEYS[2], n % w, 1) == 1 then return 1 end
return 0
"""

_MARKS: dict[int, Mark] = {0: "new", 1: "seen", 2: "old"}


def _ms(ttl: float) -> int:
    return max(1, int(ttl * 1000))


class RedisStore:
    """The store in Redis."""

    kind = "redis"

    def __init__(
        self,
        url: str,
        *,
        connect_timeout: float = 0.25,
        timeout: float = 0.25,
        max_connections: int = 32,
        client_name: str = "ivrhooks",
    ) -> None:
        try:
            import redis.asyncio as aioredis
            from redis.asyncio.retry import Retry
            from redis.backoff import NoBackoff
        except ImportError:  # pragma: no cover - the extra is part of the test install
            raise ConfigurationError(
                "IVRHOOKS_REDIS_URL is set but the Redis client is not installed: "
                "pip install 'ivrhooks[redis]'"
            ) from None
        self._errors: tuple[type[BaseException], ...] = (aioredis.RedisError, OSError)
        try:
            pool = aioredis.BlockingConnectionPool.from_url(
                url,
                max_connections=max_connections,
                # Waiting for a free connection counts against the same short budget.
                timeout=timeout,
                socket_connect_timeout=connect_timeout,
                socket_timeout=timeout,
                retry=Retry(NoBackoff(), 0),
                client_name=client_name,
            )
        except ValueError as exc:
            raise ConfigurationError(f"IVRHOOKS_REDIS_URL: {exc}") from None
        self._pool: Any = pool
        self._redis: Any = aioredis.Redis(connection_pool=pool, retry=Retry(NoBackoff(), 0))
        self._swap = self._redis.register_script(_SWAP)
        self._incr = self._redis.register_script(_INCR)
        self._raise = self._redis.register_script(_RAISE)
        self._mark = self._redis.register_script(_MARK)

    async def _call(self, what: str, coroutine: Any) -> Any:
        try:
            return await coroutine
        except asyncio.CancelledError:
            raise
        except self._errors as exc:
            raise StoreError(f"redis {what}: {type(exc).__name__}: {exc}") from exc

    async def get(self, key: str) -> bytes | None:
        value = await self._call("GET", self._redis.get(key))
        return None if value is None else bytes(value)

    async def put(self, key: str, value: bytes, *, ttl: float) -> None:
        await self._call("SET", self._redis.set(key, value, px=_ms(ttl)))

    async def add(self, key: str, value: bytes, *, ttl: float) -> bool:
        return bool(await self._call("SET NX", self._redis.set(key, value, px=_ms(ttl), nx=True)))

    async def swap(self, key: str, old: bytes | None, new: bytes | None, *, ttl: float) -> bool:
        args = [
            "1" if old is not None else "0",
            old or b"",
            "1" if new is not None else "0",
            new or b"",
            _ms(ttl),
        ]
        return bool(await self._call("swap", self._swap(keys=[key], args=args)))

    async def incr(self, key: str, *, ttl: float) -> int:
        return int(await self._call("incr", self._incr(keys=[key], args=[_ms(ttl)])))

    async def raise_to(self, key: str, value: int, *, ttl: float) -> int:
        return int(await self._call("raise", self._raise(keys=[key], args=[value, _ms(ttl)])))

    async def mark(self, key: str, number: int, *, window: int, ttl: float) -> Mark:
        # One hash tag for both keys: they stay in one slot on a Redis Cluster.
        keys = [f"{{{key}}}:high", f"{{{key}}}:seen"]
        result = await self._call("mark", self._mark(keys=keys, args=[number, window, _ms(ttl)]))
        return _MARKS[int(result)]

    async def ping(self) -> None:
        await self._call("PING", self._redis.ping())

    async def close(self) -> None:
        await self._redis.aclose()
        await self._pool.aclose()  # a pool given to the client is not closed by it
