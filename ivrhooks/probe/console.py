"""The operator's side of a probe: lines out, lines in.

Standard input is read by a daemon thread that hands each line to the event loop: a read that
blocks (a terminal nobody types at) then never keeps the process from ending after Ctrl-C or
SIGTERM, which a read in the loop's default executor would (``asyncio.run`` waits for it). It
reads the file descriptor, not ``sys.stdin``'s buffered reader (see ``Console._reader``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import threading
from collections.abc import Callable
from typing import TextIO, TypeVar

__all__ = ["Console", "in_daemon_thread"]

T = TypeVar("T")


def in_daemon_thread(work: Callable[[], T]) -> asyncio.Future[T]:
    """Run blocking ``work`` in a daemon thread; its result as a future of the running loop."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(result: T | None, error: BaseException | None) -> None:
        if future.done():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)  # type: ignore[arg-type]  # set only without an error

    def run() -> None:
        try:
            result: T | None = work()
            error: BaseException | None = None
        except Exception as exc:  # handed to the awaiting task, raised there
            result, error = None, exc
        with contextlib.suppress(RuntimeError):  # the loop closed: nobody waits any more
            loop.call_soon_threadsafe(settle, result, error)

    threading.Thread(target=run, daemon=True, name="ivrhooks-probe-work").start()
    return future


class Console:
    """Prints to ``out``; :meth:`line` is the next line typed on ``stdin``."""

    def __init__(self, out: Callable[[str], None], stdin: TextIO | None = None) -> None:
        self._out = out
        self._stdin = stdin if stdin is not None else sys.stdin
        self._lines: asyncio.Queue[str | None] | None = None
        self.eof = False

    def say(self, text: str = "") -> None:
        self._out(text)

    @property
    def interactive(self) -> bool:
        return bool(getattr(self._stdin, "isatty", lambda: False)())

    def _start(self) -> asyncio.Queue[str | None]:
        loop = asyncio.get_running_loop()
        lines: asyncio.Queue[str | None] = asyncio.Queue()
        read = self._reader()

        def pump() -> None:
            while True:
                try:
                    line = read()
                except (OSError, ValueError):
                    line = None
                with contextlib.suppress(RuntimeError):
                    loop.call_soon_threadsafe(lines.put_nowait, line)
                if line is None:
                    return

        threading.Thread(target=pump, daemon=True, name="ivrhooks-probe-stdin").start()
        return lines

    def _reader(self) -> Callable[[], str | None]:
        """Reads one line, ``None`` at the end. From the file descriptor when there is one:
        a daemon thread blocked inside ``sys.stdin``'s buffered reader holds its lock, and
        the interpreter then cannot close it when the process ends."""
        try:
            fd = self._stdin.fileno()
        except (OSError, ValueError, AttributeError):
            stdin = self._stdin
            return lambda: stdin.readline() or None
        pending = bytearray()

        def read() -> str | None:
            while b"\n" not in pending:
                chunk = os.read(fd, 4096)
                if not chunk:
                    if not pending:
                        return None
                    break
                pending.extend(chunk)
            line, _, rest = bytes(pending).partition(b"\n")
            pending[:] = rest
            return line.decode("utf-8", "replace") + "\n"

        return read

    async def line(self) -> str | None:
        """The next line without its end, or ``None`` once input has ended."""
        if self.eof:
            return None
        if self._lines is None:
            self._lines = self._start()
        line = await self._lines.get()
        if line is None:
            self.eof = True
            return None
        return line.rstrip("\r\n")
