"""The live call list's feed: hops published as they happen, to every open page, never blocking.

A hop is published from the fake PBX's call path (``FakePBX.listen``), so ``publish`` only
appends: each page has a bounded queue of its own, and a page that stops reading (a background
tab, a stalled connection) is cut off when its queue is full rather than holding memory or the
call. It loses nothing by it: every event has an id (``<start>-<n>``), the browser's
``EventSource`` reconnects with the last id it saw (``Last-Event-ID``), and the recent events
after it are replayed. A page that reconnects to a *new* start of the app (``ivrhooks dev``
reloaded it) gets that start's recent events, all of them.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

__all__ = ["Feed", "Item", "sse"]

KEEPALIVE = 15.0
"""Seconds of silence after which a comment line is sent: a page whose connection died is
noticed (the write fails) and proxies do not time the stream out."""


Item = tuple[int, str, str]
"""An event as kept: its number, its name (``hop``, or ``pbx-event`` for an event the fake PBX
posted to an event URL) and its data."""


class _Subscriber:
    def __init__(self, limit: int) -> None:
        self.pending: deque[Item] = deque()
        self.limit = limit
        self.wake = asyncio.Event()
        self.ended = False


class Feed:
    """Recent events, and the pages listening for the next ones."""

    def __init__(self, *, backlog: int = 200, queue: int = 256) -> None:
        self.start = secrets.token_hex(4)
        """This start of the app: a page that sees it change knows the app was reloaded."""
        self._recent: deque[Item] = deque(maxlen=backlog)
        self._queue = queue
        self._next = 1
        self._subscribers: set[_Subscriber] = set()
        self.closed = False

    def publish(self, event: dict[str, Any], name: str = "hop") -> None:
        """Add an event for every page: O(pages), no await, no I/O."""
        item = (self._next, name, json.dumps(event, separators=(",", ":")))
        self._next += 1
        self._recent.append(item)
        for subscriber in self._subscribers:
            if len(subscriber.pending) >= subscriber.limit:
                subscriber.ended = True  # too slow: it reconnects and catches up
            else:
                subscriber.pending.append(item)
            subscriber.wake.set()

    def close(self) -> None:
        """End every stream (the server is stopping: an open stream would hold it up)."""
        self.closed = True
        for subscriber in self._subscribers:
            subscriber.ended = True
            subscriber.wake.set()

    def replay(self, last_event_id: str | None) -> list[Item]:
        """The recent events a page has not seen, given the last id it saw."""
        start, _, number = (last_event_id or "").partition("-")
        after = int(number) if start == self.start and number.isdigit() else 0
        return [item for item in self._recent if item[0] > after]

    async def stream(self, last_event_id: str | None) -> AsyncIterator[bytes]:
        """The server-sent event stream for one page: hello, what it missed, then live."""
        subscriber = _Subscriber(self._queue)
        # Subscribed before the replay is taken: nothing published in between is lost.
        self._subscribers.add(subscriber)
        try:
            # retry: how soon the browser reconnects after the app went away (a dev reload).
            yield b"retry: 500\n" + sse("hello", json.dumps({"start": self.start}))
            sent = 0
            for number, name, data in self.replay(last_event_id):
                yield sse(name, data, f"{self.start}-{number}")
                sent = number
            while not self.closed:
                try:
                    async with asyncio.timeout(KEEPALIVE):
                        await subscriber.wake.wait()
                except TimeoutError:
                    yield b": keepalive\n\n"
                    continue
                subscriber.wake.clear()
                while subscriber.pending:
                    number, name, data = subscriber.pending.popleft()
                    if number > sent:  # not already in the replay
                        yield sse(name, data, f"{self.start}-{number}")
                        sent = number
                if subscriber.ended:
                    return
        finally:
            self._subscribers.discard(subscriber)


def sse(event: str, data: str, event_id: str | None = None) -> bytes:
    """One server-sent event (WHATWG HTML §9.2); ``data`` is one line of JSON."""
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {data}\n\n".encode()
