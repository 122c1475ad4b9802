"""What becomes of an event a replica of the Redis inbox handed out: acknowledged (handled),
put in the retry set (failed, attempts left) or buried as dead, each one script
(:data:`~.scripts.ACK`, :data:`~.scripts.FAIL`), and none if another replica that took the
event over already settled it."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from ivrhooks.conf.events import EventsConfig
from ivrhooks.events.inbox import scripts
from ivrhooks.events.inbox.base import Report, Retries, Slots, log_dead
from ivrhooks.events.inbox.scripts import GROUP

__all__ = ["Entry", "Link", "Outcomes", "entry_of"]


@dataclass(frozen=True)
class Link:
    """What a consumer needs of its :class:`~.redis.RedisInbox`."""

    redis: Any
    reader: Any
    keys: scripts.Keys
    errors: tuple[type[BaseException], ...]
    response_error: type[BaseException]
    config: EventsConfig
    retries: Retries
    report: Report
    slots: Slots
    dead_limit: int
    poll: float


@dataclass(frozen=True)
class Entry:
    """One stream entry, as read."""

    stream_id: str
    id: str
    kind: str
    body: str
    received: float
    attempt: int


def entry_of(stream_id: str, fields: dict[str, str], delivered: int) -> Entry:
    """The entry read as ``stream_id``, delivered ``delivered`` times in the group: its attempt
    is the failures before this entry plus those deliveries (a claim after a crash counts)."""
    return Entry(
        stream_id=stream_id,
        id=fields.get("id") or stream_id,
        kind=fields["kind"],
        body=fields["body"],
        received=float(fields["received"]),
        attempt=int(fields.get("attempts", "0")) + delivered,
    )


class Outcomes:
    """Settles entries for one consumer (see the module's docstring)."""

    def __init__(self, link: Link) -> None:
        self._link = link
        self._ack = link.redis.register_script(scripts.ACK)
        self._fail = link.redis.register_script(scripts.FAIL)
        k = link.keys
        self._fail_keys = [k.stream, k.retry, k.dead, k.dead_order, k.dead_dropped]

    async def ack(self, entry: Entry) -> None:
        await self._ack(keys=[self._link.keys.stream], args=[GROUP, entry.stream_id])

    async def retry(self, entry: Entry) -> float:
        """Into the retry set, due after the backoff; returns that wait in seconds."""
        link = self._link
        member = json.dumps(
            {
                "id": entry.id,
                "kind": entry.kind,
                "body": entry.body,
                "received": repr(entry.received),
                "attempts": str(entry.attempt),
            }
        )
        delay = link.retries.delay(entry.attempt)
        args = [GROUP, entry.stream_id, "retry", int(delay * 1000), member, "", 0]
        reply = await self._fail(keys=self._fail_keys, args=args)
        if int(reply[0]):
            link.report("retried")
        return delay

    async def bury(self, entry: Entry, error_type: str, error: str) -> None:
        """Into the dead list (capped: the oldest out, counted)."""
        link = self._link
        failed = time.time()
        record = json.dumps(
            {
                "kind": entry.kind,
                "body": entry.body,
                "received": repr(entry.received),
                "attempts": entry.attempt,
                "error_type": error_type,
                "error": error,
                "failed": failed,
            }
        )
        args = [GROUP, entry.stream_id, "dead", int(failed * 1000), record, entry.id]
        reply = await self._fail(keys=self._fail_keys, args=[*args, link.dead_limit])
        if not int(reply[0]):
            return
        link.report("dead")
        for _ in range(int(reply[1])):
            link.report("dropped")
        log_dead(entry.kind, entry.id, entry.attempt, error_type)
