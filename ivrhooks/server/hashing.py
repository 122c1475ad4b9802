"""Slow password hashes off the event loop, a few at a time.

A bcrypt check at cost 12 takes ~250 ms of CPU. Run on the event loop, twelve of them delay every
other route's answer by three seconds, past the PBX's 2-second timeout. Here they run in a small
thread pool of their own (bcrypt releases the GIL while it hashes), sized to leave the event loop
a core, at a lower CPU priority (Linux: the event loop wins the CPU when both want it, on a busy
machine too), with a bounded number admitted at once: a flood of slow checks waits in its
own queue, is refused when the queue is full, and gives up when the request's budget is spent.
Either way the answer is a 429, never a 5xx, and no other route waits.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from ivrhooks.core.auth.verdict import Verdict
from ivrhooks.errors import InvalidArgumentError

__all__ = ["BUSY", "HashRunner", "default_concurrency"]

BUSY = Verdict(ok=False, status=429, reason="busy", headers=((b"retry-after", b"1"),))


NICE = 10
"""The hash threads' nice value: CFS then gives the event loop ~90 % of a contended core and
lets it preempt a hash on wake-up, while an idle machine still hashes at full speed."""


def _lower_priority() -> None:
    """Run this worker thread at :data:`NICE`. Linux only: there setpriority(PRIO_PROCESS, tid)
    applies to one thread (man 2 setpriority); elsewhere the id would name a process."""
    if sys.platform == "linux":
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), NICE)


def default_concurrency() -> int:
    """Half the CPUs (at least one): the event loop keeps a core however many hashes queue."""
    return max(1, (os.cpu_count() or 2) // 2)


class HashRunner:
    """Runs blocking checks in ``concurrency`` threads, with at most ``queue`` more waiting."""

    def __init__(self, *, concurrency: int | None = None, queue: int = 16) -> None:
        concurrency = default_concurrency() if concurrency is None else concurrency
        if concurrency < 1 or queue < 0:
            raise InvalidArgumentError("concurrency must be at least 1 and queue at least 0")
        self.concurrency = concurrency
        self.limit = concurrency + queue
        self.admitted = 0
        self._executor: ThreadPoolExecutor | None = None

    def _pool(self) -> ThreadPoolExecutor:
        if self._executor is None:  # threads only for apps that ever hash
            self._executor = ThreadPoolExecutor(
                self.concurrency, thread_name_prefix="ivrhooks-hash", initializer=_lower_priority
            )
        return self._executor

    async def run(self, check: Callable[[], Verdict], within: float) -> Verdict:
        """``check()``'s verdict, or :data:`BUSY` when too many wait or it does not finish
        ``within`` seconds (what is left of the request's budget)."""
        if self.admitted >= self.limit or within <= 0:
            return BUSY
        self.admitted += 1
        future = self._pool().submit(check)
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), within)
        except TimeoutError:
            future.cancel()  # still queued: it never runs; running: its result is dropped
            return BUSY
        finally:
            self.admitted -= 1

    def shutdown(self) -> None:
        """Stop the threads (not waiting for a hash in progress); they restart when needed."""
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
