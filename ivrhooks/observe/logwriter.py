"""``LineWriter``: log lines handed to a writer thread through a bounded buffer.

``ivrhooks run`` writes every log line this way (:func:`ivrhooks.logs.configure_logging` with
``buffered=True``): the event loop appends a finished line to a list and goes back to answering
calls; a writer thread joins what has gathered and writes it to the stream (stderr) every
``interval`` seconds, sooner when ``batch`` characters are waiting or a WARNING or worse was
logged. One writer for every line keeps them in the order they were logged.

What it promises:

- **Clean shutdown loses nothing**: :meth:`LineWriter.close` (``ivrhooks run`` calls it on exit,
  and ``atexit`` does for anyone else) writes every line still buffered.
- **A crash loses a bounded amount**: at most the lines logged in the last ``interval`` (0.05 s)
  while the stream keeps up, and never more than ``limit`` characters (4 MiB, about 14,000
  request lines) when it does not.
- **A slow or blocked stream never blocks the caller**: past ``limit`` characters waiting, a new
  line is dropped and counted (:attr:`LineWriter.dropped`, exported as
  ``ivrhooks_log_lines_dropped_total``); the writer thread is the only one that waits on the
  stream.
"""

from __future__ import annotations

import abc
import atexit
import logging
import threading
import weakref
from typing import TextIO

__all__ = ["BatchWriter", "LineWriter", "WriterHandler", "dropped_lines"]

DEFAULT_INTERVAL = 0.05
DEFAULT_LIMIT = 4 * 1024 * 1024
DEFAULT_BATCH = 64 * 1024

# Every writer alive, for the process-wide dropped count and for atexit.
_WRITERS: weakref.WeakSet[LineWriter] = weakref.WeakSet()
_closed_dropped = 0  # dropped by writers already closed, so the counter never goes down


def dropped_lines() -> int:
    """Lines dropped so far by every :class:`LineWriter` of this process (a counter)."""
    return _closed_dropped + sum(w.dropped for w in list(_WRITERS))


class BatchWriter(abc.ABC):
    """Whole lines queued by the caller and written in batches by a thread of its own: the
    caller appends to a list and never waits; past ``limit`` characters waiting a line is
    dropped and counted. A subclass says where a batch goes (:meth:`_write_batch`) and what
    ending means (:meth:`_finish`). :class:`LineWriter` writes to a stream,
    :class:`ivrhooks.observe.capturefile.CaptureFile` to a rotating file."""

    def __init__(
        self, *, name: str, interval: float, limit: int, batch: int, close_timeout: float
    ) -> None:
        self.interval = interval
        self.limit = limit
        self.batch = batch
        self.close_timeout = close_timeout
        #: Lines refused because ``limit`` characters were already waiting.
        self.dropped = 0
        #: Lines the sink refused with an error, then given up.
        self.failed = 0
        self._lock = threading.Lock()
        self._lines: list[str] = []
        self._flushes: list[threading.Event] = []  # flush() callers waiting for the next write
        self._waiting = 0  # characters buffered or being written, not yet written
        self._wake = threading.Event()
        self._woken = False  # set() once per batch: a blocked sink must not cost every line
        self._closing = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def write(self, line: str, *, urgent: bool = False) -> bool:
        """Queue one line (ending in ``\\n``); False if it was dropped. Never waits on the
        sink. ``urgent`` wakes the writer now instead of at its next ``interval``."""
        size = len(line)
        with self._lock:
            if self._waiting + size > self.limit or self._closing:
                self.dropped += 1
                return False
            self._lines.append(line)
            self._waiting += size
            wake = (urgent or self._waiting >= self.batch) and not self._woken
            if wake:
                self._woken = True
        if wake:
            self._wake.set()
        return True

    @property
    def waiting(self) -> int:
        """Characters buffered and not yet written."""
        return self._waiting

    @property
    def closed(self) -> bool:
        return self._closing

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until everything queued before this call is written (or lost); False on
        timeout."""
        done = threading.Event()
        with self._lock:
            if self._closing and not self._thread.is_alive():
                return not self._lines
            self._flushes.append(done)
        self._wake.set()
        return done.wait(timeout)

    def close(self) -> None:
        """Write what is buffered and stop the thread (waits at most ``close_timeout``: a sink
        that hangs must not hold the process on its way out)."""
        with self._lock:
            if self._closing:
                return
            self._closing = True
        self._wake.set()
        self._thread.join(self.close_timeout)

    @abc.abstractmethod
    def _write_batch(self, lines: list[str]) -> None:
        """Write ``lines`` (on the writer thread); count in :attr:`failed` what is lost."""

    @abc.abstractmethod
    def _finish(self) -> None:
        """On the writer thread, after the last batch: release the sink if it is ours."""

    def _run(self) -> None:
        while True:
            self._wake.wait(self.interval)
            self._wake.clear()
            with self._lock:
                lines, self._lines = self._lines, []
                flushes, self._flushes = self._flushes, []
                closing = self._closing
                self._woken = False
            if lines:
                self._write_batch(lines)
                with self._lock:
                    self._waiting -= sum(len(line) for line in lines)
            for done in flushes:
                done.set()
            if closing:
                self._finish()
                return


class LineWriter(BatchWriter):
    """Buffers whole lines (each ending in ``\\n``) and writes them to ``stream`` from a thread."""

    def __init__(
        self,
        stream: TextIO,
        *,
        interval: float = DEFAULT_INTERVAL,
        limit: int = DEFAULT_LIMIT,
        batch: int = DEFAULT_BATCH,
        close_timeout: float = 2.0,
    ) -> None:
        if interval <= 0 or limit < 1 or batch < 1:
            raise ValueError("LineWriter: interval, limit and batch must be positive")
        self.stream = stream
        super().__init__(
            name="ivrhooks-log-writer",
            interval=interval,
            limit=limit,
            batch=batch,
            close_timeout=close_timeout,
        )
        _WRITERS.add(self)

    def close(self) -> None:
        global _closed_dropped
        super().close()
        if self in _WRITERS:
            _WRITERS.discard(self)
            _closed_dropped += self.dropped

    def _write_batch(self, lines: list[str]) -> None:
        try:
            self.stream.write("".join(lines))
            self.stream.flush()
        except (OSError, ValueError):
            # A closed stream or a broken pipe: nothing to report it to but the count.
            self.failed += len(lines)

    def _finish(self) -> None:
        """Nothing to release: the stream is the caller's (stderr, usually)."""


class WriterHandler(logging.Handler):
    """A logging handler that formats each record and queues it on a :class:`LineWriter`.

    Plain stdlib logging up to the last step: levels, filters and formatters work as usual;
    only the write to the stream moves off the caller's thread.
    """

    def __init__(self, writer: LineWriter) -> None:
        super().__init__()
        self.writer = writer

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record) + "\n"
        except Exception:
            self.handleError(record)
            return
        self.writer.write(line, urgent=record.levelno >= logging.WARNING)

    def flush(self) -> None:
        self.writer.flush(self.writer.close_timeout)

    def close(self) -> None:
        self.writer.close()
        super().close()


@atexit.register
def _close_all() -> None:
    for writer in list(_WRITERS):
        writer.close()
