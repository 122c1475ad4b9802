"""One replica's share of the Redis inbox: read the stream in the app's consumer group, hand
each event to the handler, acknowledge it, retry it or bury it.

Each ``run`` reads under a consumer name of its own (host, process, random), so every event is
handed to one replica at a time. While its handler runs, the replica renews its hold on the
event every third of ``EventsConfig.claim_after`` (``XCLAIM ... JUSTID``: a slow handler is not
taken over); a replica that stopped renews nothing, and after ``claim_after`` another replica
takes the event over (``XAUTOCLAIM``) and hands it out again with ``Delivery.attempt`` one
higher: at least once on a crash. An event that keeps taking its replicas down is buried as
dead (``ReplicaLost``) once its attempts pass ``max_attempts`` (at least two tries).

A Redis failure never ends ``run``: it is logged once, retried with backoff, and the end of
the episode is logged when Redis answers again (recreating the group if Redis came back empty).
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import socket
from typing import Any

from ivrhooks.core.backoff import backoff
from ivrhooks.events.inbox import scripts
from ivrhooks.events.inbox.base import Delivery, Handle, describe, log
from ivrhooks.events.inbox.outcome import Entry, Link, Outcomes, entry_of
from ivrhooks.events.inbox.scripts import GROUP

__all__ = ["Consumer"]


def _cancelled() -> None:
    """Raise the cancellation a redis-py command swallowed. On Python 3.11, ``asyncio.wait_for``
    (which redis-py awaits a socket write with) returns the result when its future finishes
    as the task is cancelled, dropping the ``CancelledError`` (CPython gh-86296, fixed in
    3.12): the loop would then run on after ``run`` was cancelled."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


class Consumer:
    """Reads one app's event stream for one ``run`` (see the module's docstring)."""

    def __init__(self, link: Link) -> None:
        self._link = link
        self.name = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        redis = link.redis
        self._outcomes = Outcomes(link)
        self._promote = redis.register_script(scripts.PROMOTE)
        self._sweep = redis.register_script(scripts.SWEEP)
        self._in_hand: set[str] = set()
        self._group = False
        self._cursor = "0-0"
        self._due = {"claim": 0.0, "promote": 0.0, "renew": 0.0, "sweep": 0.0}
        self._failures = 0

    # -- the loop -------------------------------------------------------------------------

    async def run(self, handle: Handle) -> None:
        slots = self._link.slots
        tasks: set[asyncio.Task[None]] = set()
        try:
            while True:
                free = await slots.wait()
                slots.take(free)  # at once: another run of the same inbox shares the slots
                entries: list[Entry] = []
                error: BaseException | None = None
                try:
                    entries = await self._fetch(free)
                except self._link.errors as exc:
                    error = exc
                finally:
                    slots.give(free - len(entries))
                _cancelled()
                if error is not None:
                    await self._trouble(error)
                    continue
                self._recovered()
                for entry in entries:
                    self._in_hand.add(entry.stream_id)
                    task = asyncio.create_task(self._handle(handle, entry))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
        finally:
            # Cancelled: what is in hand stays pending under this consumer, unacknowledged;
            # another replica (or this app restarted) claims it after claim_after.
            for task in tasks:
                task.cancel()
            if tasks:
                await asyncio.gather(*tasks, return_exceptions=True)

    async def _fetch(self, free: int) -> list[Entry]:
        link, keys = self._link, self._link.keys
        if not self._group:
            await self._create_group()
        loop = asyncio.get_running_loop()
        now = loop.time()
        claim_after = link.config.claim_after
        try:
            if now >= self._due["renew"] and self._in_hand:
                await link.redis.xclaim(
                    keys.stream, GROUP, self.name, 0, list(self._in_hand), justid=True
                )
                self._due["renew"] = now + claim_after / 3
            if now >= self._due["sweep"]:
                idle = int(max(3600.0, 10 * claim_after) * 1000)
                await self._sweep(keys=[keys.stream], args=[GROUP, self.name, idle])
                self._due["sweep"] = now + max(60.0, claim_after * 10)
            if now >= self._due["claim"]:
                self._due["claim"] = now + max(0.05, claim_after / 4)
                claimed = await self._claim(free)
                if claimed:
                    return claimed
            if now >= self._due["promote"]:
                moved, next_ms = await self._promote(keys=[keys.stream, keys.retry], args=[100])
                wait = link.poll if int(next_ms) < 0 else min(link.poll, int(next_ms) / 1000)
                self._due["promote"] = now + (0 if int(moved) >= 100 else wait)
            watch = ("claim", "promote", "renew") if self._in_hand else ("claim", "promote")
            block = min(link.poll, *(self._due[name] - now for name in watch))
            # A cancellation one of the commands above swallowed would otherwise wait out the
            # blocking read: a shutdown held up to ``poll`` seconds for nothing.
            _cancelled()
            reply = await self._read(free, block)
        except link.response_error as exc:
            if "NOGROUP" not in str(exc):
                raise
            self._group = False  # Redis came back empty (no persistence): make it again
            return []
        items = reply.values() if isinstance(reply, dict) else [r[1] for r in reply or []]
        return [entry_of(sid, fields, 1) for batch in items for sid, fields in batch if fields]

    async def _read(self, free: int, block: float) -> Any:
        """The blocking ``XREADGROUP``, in a task of its own so that cancelling ``run`` ends it
        at once. Its own socket write can swallow the cancellation on Python 3.11 (see
        :func:`_cancelled`), and the read would then wait out its ``block`` (up to ``poll``)
        before the app could stop."""
        link = self._link
        read = asyncio.ensure_future(
            link.reader.xreadgroup(
                GROUP,
                self.name,
                {link.keys.stream: ">"},
                count=free,
                block=max(1, int(block * 1000)),
            )
        )
        try:
            return await asyncio.shield(read)
        except asyncio.CancelledError:
            while not read.done():  # again if its write swallowed one: the read then takes it
                read.cancel()
                await asyncio.wait({read}, timeout=0.01)
            if not read.cancelled():
                read.exception()  # what it read stays pending here, claimed after claim_after
            raise

    async def _create_group(self) -> None:
        link = self._link
        try:
            await link.redis.xgroup_create(link.keys.stream, GROUP, id="0", mkstream=True)
        except link.response_error as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self._group = True

    async def _claim(self, free: int) -> list[Entry]:
        link, stream = self._link, self._link.keys.stream
        idle = int(link.config.claim_after * 1000)
        reply = await link.redis.xautoclaim(
            stream, GROUP, self.name, idle, start_id=self._cursor, count=free
        )
        self._cursor = reply[0]
        claimed = [(sid, fields) for sid, fields in reply[1] if fields]
        if not claimed:
            return []
        pipe = link.redis.pipeline(transaction=False)
        for sid, _ in claimed:
            pipe.xpending_range(stream, GROUP, min=sid, max=sid, count=1)
        pending = await pipe.execute()
        entries = []
        limit = max(link.config.max_attempts, 2)
        for (sid, fields), rows in zip(claimed, pending, strict=True):
            link.report("claimed")
            entry = entry_of(sid, fields, int(rows[0]["times_delivered"]) if rows else 2)
            if entry.attempt > limit:
                message = f"the replica handling it stopped before it finished, try {entry.attempt}"
                await self._outcomes.bury(entry, "ReplicaLost", message)
            else:
                entries.append(entry)
        return entries

    # -- one event ------------------------------------------------------------------------

    async def _handle(self, handle: Handle, entry: Entry) -> None:
        link = self._link
        delivery = Delivery(
            id=entry.id,
            kind=entry.kind,
            body=json.loads(entry.body),
            attempt=entry.attempt,
            received=entry.received,
        )
        try:
            try:
                await handle(delivery)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if entry.attempt < link.config.max_attempts:
                    due = asyncio.get_running_loop().time() + await self._outcomes.retry(entry)
                    self._due["promote"] = min(self._due["promote"], due)
                else:
                    await self._outcomes.bury(entry, *describe(exc))
            else:
                try:
                    await self._outcomes.ack(entry)
                finally:
                    link.report("handled")
        except link.errors as exc:
            # Not acknowledged: the event stays pending here and is claimed and handled again
            # after claim_after (at least once).
            log.warning(
                "events: could not record the outcome of event %s (%s: %s); it will be handed "
                "out again",
                entry.id,
                type(exc).__name__,
                exc,
            )
        finally:
            self._in_hand.discard(entry.stream_id)
            link.slots.give()

    # -- Redis failing --------------------------------------------------------------------

    async def _trouble(self, error: BaseException) -> None:
        self._failures += 1
        if self._failures == 1:
            log.warning(
                "events: Redis failed (%s: %s); events are handed out again when it answers",
                type(error).__name__,
                error,
            )
        await asyncio.sleep(backoff(self._failures, base=0.05, cap=5.0, jitter="equal"))

    def _recovered(self) -> None:
        if self._failures:
            log.warning("events: Redis answers again after %d failed tries", self._failures)
            self._failures = 0
