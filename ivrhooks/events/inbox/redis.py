"""``RedisInbox``: the inbox in Redis, shared by every replica of an app (``IVRHOOKS_REDIS_URL``).

Every replica accepts; accepted events go to a Redis Stream read by one consumer group, so each
event is handed to one replica at a time (:mod:`.consumer`). Accepting is one Lua script
(:mod:`.scripts`): the dedup check, the backlog bound, the ``XADD`` and the digest's expiring
key together, so a crash between them can neither lose an event nor let a duplicate through.
``accept`` returns once Redis has the events, as durable as the server's persistence makes them
(``appendonly``, ``appendfsync``: docs/deployment.md).

A Redis failure in :meth:`accept` raises :class:`InboxUnavailableError` (the endpoint answers
503 and the PBX sends the events again: nothing is lost). There is no fallback to this
process's memory: another replica could not see the events, and they would die with it.

Delivery is at least once on a crash: an event whose replica stops while handling it stays
pending in the group and another replica claims it after ``EventsConfig.claim_after``, so a
handler may see it again (``Delivery.attempt`` counts that try).
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

from ivrhooks.conf.events import EventsConfig
from ivrhooks.errors import ConfigurationError, InboxFullError, InboxUnavailableError
from ivrhooks.events.inbox import scripts
from ivrhooks.events.inbox.base import (
    DeadDelivery,
    Handle,
    Report,
    Retries,
    Slots,
    encode_batch,
    reporter,
)
from ivrhooks.events.inbox.consumer import Consumer
from ivrhooks.events.inbox.outcome import Link

__all__ = ["RedisInbox"]


class RedisInbox:
    """The inbox in Redis (see the module's docstring)."""

    kind = "redis"

    def __init__(
        self,
        config: EventsConfig,
        url: str,
        *,
        app_id: str,
        connect_timeout: float = 0.25,
        timeout: float = 0.25,
        max_connections: int = 32,
        report: Report | None = None,
        retries: Retries | None = None,
        dead_limit: int = 1000,
        poll: float = 1.0,
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
        if not app_id or any(c.isspace() or c in "{}" for c in app_id):
            raise ConfigurationError(f"the app id {app_id!r} cannot name Redis keys")
        self._config = config
        self._keys = scripts.Keys.of(app_id)
        self._report = reporter(report)
        self._dead_limit = max(1, dead_limit)

        def client(socket_timeout: float, connections: int) -> Any:
            # No automatic retries (redis-py's default is three): the endpoint decides what a
            # failure means (503, the PBX retries), and the run loop backs off on its own.
            try:
                pool = aioredis.BlockingConnectionPool.from_url(
                    url,
                    max_connections=connections,
                    timeout=socket_timeout,
                    socket_connect_timeout=connect_timeout,
                    socket_timeout=socket_timeout,
                    retry=Retry(NoBackoff(), 0),
                    client_name="ivrhooks-events",
                    decode_responses=True,
                )
            except ValueError as exc:
                raise ConfigurationError(f"IVRHOOKS_REDIS_URL: {exc}") from None
            return aioredis.Redis(connection_pool=pool, retry=Retry(NoBackoff(), 0))

        self._redis = client(timeout, max_connections)
        # The run loop's blocking read waits up to ``poll`` seconds for new events: its own
        # connection, with a timeout longer than that wait.
        self._poll = max(0.01, poll)
        self._reader = client(self._poll + max(timeout, 1.0), 2)
        self._errors: tuple[type[BaseException], ...] = (aioredis.RedisError, OSError)
        self._response_error: type[BaseException] = aioredis.ResponseError
        self._accept = self._redis.register_script(scripts.ACCEPT)
        self._retry_dead = self._redis.register_script(scripts.RETRY_DEAD)
        self._retries = retries or Retries()
        self._slots = Slots(config.concurrency)  # shared by every run of this inbox

    def _link(self) -> Link:
        return Link(
            redis=self._redis,
            reader=self._reader,
            keys=self._keys,
            errors=self._errors,
            response_error=self._response_error,
            config=self._config,
            retries=self._retries,
            report=self._report,
            slots=self._slots,
            dead_limit=self._dead_limit,
            poll=self._poll,
        )

    async def _call(self, what: str, coroutine: Any) -> Any:
        try:
            return await coroutine
        except self._errors as exc:
            self._report("unavailable")
            raise InboxUnavailableError(
                f"event inbox: Redis {what} failed ({type(exc).__name__}: {exc}); nothing was "
                "lost: the PBX sends the events again (check IVRHOOKS_REDIS_URL and the server)"
            ) from exc

    async def accept(
        self, kind: str, bodies: Sequence[dict[str, Any]], digests: Sequence[str]
    ) -> list[bool]:
        texts = encode_batch(kind, bodies, digests)
        if not texts:
            return []
        keys = [self._keys.stream, self._keys.retry, *map(self._keys.seen, digests)]
        window = max(1, int(self._config.dedup_window * 1000))
        args = [self._config.backlog, window, kind, repr(time.time()), *texts]
        reply = await self._call("accept", self._accept(keys=keys, args=args))
        if int(reply[0]) == 1:
            for _ in range(int(reply[2])):
                self._report("full")
            limit = self._config.backlog
            raise InboxFullError(
                f"event backlog full: {reply[1]} events waiting, IVRHOOKS_EVENTS_BACKLOG={limit}; "
                "nothing stored (the PBX will send them again)",
                backlog=int(reply[1]),
                limit=limit,
            )
        stored = [flag == 1 for flag in reply[1:]]
        for flag in stored:
            self._report("accepted" if flag else "duplicate")
        return stored

    async def run(self, handle: Handle) -> None:
        """Hand out events until cancelled (:class:`~.consumer.Consumer`). A Redis failure is
        logged once and retried with backoff; the loop resumes when Redis answers again."""
        await Consumer(self._link()).run(handle)

    async def backlog(self) -> int:
        pipe = self._redis.pipeline(transaction=False)
        pipe.xlen(self._keys.stream)
        pipe.zcard(self._keys.retry)
        waiting, retrying = await self._call("backlog", pipe.execute())
        return int(waiting) + int(retrying)

    async def dead(self, limit: int = 100) -> list[DeadDelivery]:
        ids = await self._call(
            "dead", self._redis.zrevrange(self._keys.dead_order, 0, max(0, limit - 1))
        )
        if not ids:
            return []
        records = await self._call("dead", self._redis.hmget(self._keys.dead, ids))
        found: list[DeadDelivery] = []
        for id_, record in zip(ids, records, strict=True):
            if record is None:
                continue
            e = json.loads(record)
            found.append(
                DeadDelivery(
                    id=id_,
                    kind=e["kind"],
                    body=json.loads(e["body"]),
                    attempts=int(e["attempts"]),
                    error_type=e["error_type"],
                    error=e["error"],
                    received=float(e["received"]),
                    failed=float(e["failed"]),
                )
            )
        return found

    async def dead_dropped(self) -> int:
        value = await self._call("dead", self._redis.get(self._keys.dead_dropped))
        return int(value or 0)

    async def retry_dead(self, ids: Sequence[str] | None = None) -> int:
        keys = [self._keys.stream, self._keys.dead, self._keys.dead_order]
        if ids is not None:
            if not ids:
                return 0
            reply = await self._call("retry", self._retry_dead(keys=keys, args=list(ids)))
            return int(reply[0])
        total = 0
        while True:  # all of them, a hundred per script so Redis is never blocked for long
            reply = await self._call("retry", self._retry_dead(keys=keys, args=[]))
            total += int(reply[0])
            if int(reply[1]) == 0:
                return total

    async def close(self) -> None:
        for client in (self._redis, self._reader):
            await client.aclose()
            await client.connection_pool.aclose()
