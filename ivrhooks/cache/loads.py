"""The loads of one cache under way: one per key (single flight), and at most
``max_background`` of them running with no caller waiting.

A load becomes a *background* load when it starts as a stale value's refresh, or when its
last caller leaves (the handler's deadline cancelled it) before it finished. Past the budget,
a refresh is not started and a load its callers left is cancelled; both are reported as
``dropped``. Every task is tracked, so the app's shutdown cancels what still runs.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from ivrhooks.cache.flight import Flight

__all__ = ["Loads", "bounded"]


async def bounded(loader: Callable[[], Awaitable[Any]], seconds: float, name: str) -> Any:
    """``await loader()`` for at most ``seconds``; past that a ``TimeoutError`` naming the
    cache and ``load_timeout`` (a ``TimeoutError`` of the loader's own passes as it is)."""
    timeout = asyncio.timeout(seconds)
    try:
        async with timeout:
            return await loader()
    except TimeoutError:
        if not timeout.expired():
            raise
        raise TimeoutError(
            f"cache {name!r}: the loader took longer than load_timeout={seconds:g} s"
        ) from None


class Loads:
    """The flights of one cache, by key, and the tasks that run them."""

    __slots__ = ("_background", "_deleting", "_dropped", "_flights", "_tasks", "max_background")

    def __init__(self, max_background: int, dropped: Callable[[], None]) -> None:
        self.max_background = max_background
        self._dropped = dropped
        self._flights: dict[str, Flight] = {}
        self._background = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._deleting: dict[str, asyncio.Task[None]] = {}

    @property
    def background(self) -> int:
        """How many loads run with no caller waiting."""
        return self._background

    def current(self, key: str) -> Flight | None:
        flight = self._flights.get(key)
        if flight is not None and flight.loop is not asyncio.get_running_loop():
            del self._flights[key]  # left by an event loop that has ended (tests run several)
            return None
        return flight

    def start(
        self, key: str, fly: Callable[[Flight], Coroutine[Any, Any, None]], *, background: bool
    ) -> Flight | None:
        """A new flight for ``key`` running ``fly``; ``None`` for a background one past the
        budget."""
        flight = Flight(asyncio.get_running_loop())
        if background and not self.to_background(flight):
            return None
        self._flights[key] = flight
        flight.task = flight.loop.create_task(fly(flight))
        self._track(flight.task, functools.partial(self._landed, flight))
        return flight

    def to_background(self, flight: Flight) -> bool:
        """Count ``flight`` as a background load, if the budget allows (else report it)."""
        if flight.background:
            return True
        if self._background >= self.max_background:
            self._dropped()
            return False
        flight.background = True
        self._background += 1
        return True

    def left(self, key: str, flight: Flight) -> None:
        """A caller stopped waiting (its deadline cancelled it). The last caller leaving makes
        the load a background one, or cancels it past the budget."""
        if flight.waiters > 1 or flight.answer.done() or self.to_background(flight):
            return
        self.land(key, flight)
        assert flight.task is not None
        flight.task.cancel()

    def land(self, key: str, flight: Flight) -> None:
        """``flight`` has its answer: the next caller of ``key`` starts afresh."""
        if self._flights.get(key) is flight:
            del self._flights[key]

    def forget(self, key: str) -> None:
        """``key`` was invalidated: a load under way keeps nothing."""
        flight = self._flights.pop(key, None)
        if flight is not None:
            flight.invalidated = True

    def deleting(self, key: str, delete: Coroutine[Any, Any, None]) -> None:
        """Run the shared tier's ``delete`` of ``key``; loads of the key wait for it first."""
        task = asyncio.get_running_loop().create_task(delete)
        self._deleting[key] = task
        self._track(task, functools.partial(self._deleted, key))

    async def deleted(self, key: str) -> None:
        task = self._deleting.get(key)
        if task is not None:
            await asyncio.wait({task})  # not cancelled with the waiting load

    async def cancel(self) -> None:
        """Cancel every task of this event loop, and wait for them to end."""
        loop = asyncio.get_running_loop()
        tasks = [t for t in self._tasks if t.get_loop() is loop]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _landed(self, flight: Flight, task: asyncio.Task[None]) -> None:
        if flight.background:
            self._background -= 1

    def _deleted(self, key: str, task: asyncio.Task[None]) -> None:
        if self._deleting.get(key) is task:
            del self._deleting[key]

    def _track(self, task: asyncio.Task[None], done: Callable[[asyncio.Task[None]], None]) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(done)
