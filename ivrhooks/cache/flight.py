"""One load of one key, shared by every caller that asks for the key while it runs.

The load runs in a task of its own, never in a caller's: a caller whose deadline cancels it
stops waiting, and the load goes on. Callers wait on :attr:`Flight.answer` through
:func:`asyncio.shield`, so a cancelled caller never cancels the answer others wait for.

Every answer's exception is marked retrieved when it is set (:func:`_retrieved`): a load that
fails after its last caller left has nobody to raise it to, and asyncio would otherwise log
"Future exception was never retrieved" when the future is collected.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Literal

from ivrhooks.cache.entry import Entry

__all__ = ["Answer", "Flight", "Served"]

Served = Literal["hit", "stale", "miss"]
"""How a caller was served: a fresh value, a stale one (refreshed behind it), or after a load."""

Answer = tuple[Served, Entry]


def _retrieved(answer: asyncio.Future[Answer]) -> None:
    if not answer.cancelled():
        answer.exception()


@dataclass(eq=False, slots=True)
class Flight:
    """A load under way: its answer, who waits for it, and whether it runs in the background
    (no caller waits: a stale value's refresh, or a load its callers left)."""

    loop: asyncio.AbstractEventLoop
    answer: asyncio.Future[Answer] = field(init=False)
    task: asyncio.Task[None] | None = None
    waiters: int = 0
    background: bool = False
    invalidated: bool = False
    """The key was invalidated while it ran: its value answers its callers and is not kept."""

    def __post_init__(self) -> None:
        self.answer = self.loop.create_future()
        self.answer.add_done_callback(_retrieved)

    def settle(self, served: Served, entry: Entry) -> None:
        if not self.answer.done():
            self.answer.set_result((served, entry))

    def fail(self, exc: BaseException) -> bool:
        """Give ``exc`` to the callers; whether any could still get it."""
        if self.answer.done():
            return False
        self.answer.set_exception(exc)
        return True

    async def wait(self) -> Answer:
        return await asyncio.shield(self.answer)
