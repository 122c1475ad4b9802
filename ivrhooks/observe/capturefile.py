"""``CaptureFile``: lines appended to a file by a writer thread, the file rotated at a size cap.

The pattern of :mod:`ivrhooks.observe.logwriter`, for a file instead of a stream: the event loop
appends a finished line to a list and goes back to answering calls; a writer thread takes what
gathered every ``interval`` seconds (sooner past ``batch`` characters) and writes it. What it
promises, beyond the log writer's:

- **A disk never fails a call.** The event loop never touches the file. Past ``limit``
  characters waiting, a line is dropped and counted (:attr:`CaptureFile.dropped`); a write the
  disk refuses (full, gone, read-only) loses its lines, counted (:attr:`CaptureFile.failed`)
  and logged once; the next batch tries again.
- **Bounded on disk.** Before a write would take the file past ``max_bytes`` it is renamed
  ``FILE.1`` (``FILE.1`` to ``FILE.2``, and so on, ``FILE.<files>`` dropped) and a new one
  started, so the capture holds at most ``(files + 1) * max_bytes`` bytes. A single line larger
  than the cap gets a file of its own. Only a regular file rotates (``/dev/null`` never does).
- **Whole lines.** A write cut short by the disk leaves a partial line; the next write starts
  on a new line, so one line is unreadable, never two run together.
- **Private.** A new file is created readable by its owner only (``0600``): it holds what
  callers keyed.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import stat
import weakref

from ivrhooks.observe.logwriter import DEFAULT_BATCH, DEFAULT_INTERVAL, DEFAULT_LIMIT, BatchWriter

__all__ = ["CaptureFile"]

log = logging.getLogger("ivrhooks")

_OPEN = weakref.WeakSet["CaptureFile"]()


class CaptureFile(BatchWriter):
    """Appends whole lines to ``path`` from a thread; opening it raises :class:`OSError` now."""

    def __init__(
        self,
        path: str,
        *,
        max_bytes: int,
        files: int,
        interval: float = DEFAULT_INTERVAL,
        limit: int = DEFAULT_LIMIT,
        batch: int = DEFAULT_BATCH,
        close_timeout: float = 2.0,
    ) -> None:
        if max_bytes < 1 or files < 1 or interval <= 0 or limit < 1 or batch < 1:
            raise ValueError("CaptureFile: every size, count and interval must be positive")
        self.path = path
        self.max_bytes = max_bytes
        self.files = files
        #: Lines written to the file.
        self.written = 0
        #: Times the file was renamed to ``FILE.1`` and a new one started.
        self.rotations = 0
        self._fd = -1
        self._size = 0
        self._regular = False
        self._torn = False  # the last write stopped mid-line
        self._complained = False
        self._error = ""  # why the last write or rotation failed (the OS's words)
        self._open()  # a path that cannot be opened is the operator's to fix, at startup
        # Lines lost because the disk refused them (or the file could not be rotated) are
        # counted in ``failed``.
        super().__init__(
            name="ivrhooks-capture",
            interval=interval,
            limit=limit,
            batch=batch,
            close_timeout=close_timeout,
        )
        _OPEN.add(self)

    def close(self) -> None:
        """Write what is queued, stop the thread and close the file (waits at most
        ``close_timeout``: a disk that hangs must not hold the process on its way out)."""
        super().close()
        _OPEN.discard(self)

    # -- the writer thread ----------------------------------------------------------------

    def _finish(self) -> None:
        self._close_fd()

    def _write_batch(self, lines: list[str]) -> None:
        data = [line.encode("utf-8") for line in lines]
        self._follow()
        start = 0
        while start < len(data):
            end, size = start, 0
            room = self.max_bytes - self._size if self._regular else None
            # As many lines as fit; the first line of an empty file always does.
            while end < len(data) and (
                room is None or size + len(data[end]) <= room or (end == start and not self._size)
            ):
                size += len(data[end])
                end += 1
            if end == start:
                if not self._rotate():
                    self._lost(len(data) - start, "could not rotate it")
                    return
                continue
            if not self._append(b"".join(data[start:end])):
                self._lost(len(data) - start, self._error)
                return
            self.written += end - start
            start = end

    def _append(self, chunk: bytes) -> bool:
        try:
            if self._fd < 0:
                self._open()
            if self._torn:
                chunk = b"\n" + chunk
            view = memoryview(chunk)
            while view:
                done = os.write(self._fd, view)
                self._size += done
                self._torn = True
                view = view[done:]
            self._torn = False
            return True
        except OSError as exc:
            self._error = exc.strerror or type(exc).__name__
            return False

    def _follow(self) -> None:
        """Write to whatever file is at ``path`` now: the one open may have been renamed
        (``ivrhooks replay --accept``, logrotate) or deleted with its directory. One ``stat`` a
        batch; a file that cannot be opened again is found by the next write."""
        if self._fd < 0 or not self._regular:
            return
        try:
            there = os.stat(self.path)
            here = os.fstat(self._fd)
            if (there.st_dev, there.st_ino) == (here.st_dev, here.st_ino):
                return
        except OSError:
            pass
        self._close_fd()
        with contextlib.suppress(OSError):
            self._open()  # else the write tries again, and counts the lines lost

    def _rotate(self) -> bool:
        """``FILE`` becomes ``FILE.1`` (each older one moves up, the last is dropped) and a new,
        empty ``FILE`` is opened."""
        self._close_fd()
        try:
            for number in range(self.files - 1, 0, -1):
                older = f"{self.path}.{number}"
                if os.path.exists(older):
                    os.replace(older, f"{self.path}.{number + 1}")
            os.replace(self.path, f"{self.path}.1")
            self._open()
        except OSError as exc:
            self._error = exc.strerror or type(exc).__name__
            return False
        self.rotations += 1
        return True

    def _open(self) -> None:
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
        info = os.fstat(fd)
        self._fd = fd
        self._regular = stat.S_ISREG(info.st_mode)
        self._size = info.st_size if self._regular else 0
        self._torn = False

    def _close_fd(self) -> None:
        if self._fd >= 0:
            fd, self._fd = self._fd, -1
            with contextlib.suppress(OSError):
                os.close(fd)

    def _lost(self, count: int, why: str) -> None:
        self.failed += count
        if not self._complained:
            self._complained = True
            # Once: a full disk would otherwise log as often as calls arrive. The count is
            # ivrhooks_capture_lines_total{result="failed"}.
            log.warning(
                "capture: writing %s failed (%s); captured requests are being lost "
                '(counted in ivrhooks_capture_lines_total{result="failed"}); calls are '
                "answered as before",
                self.path,
                why,
            )


@atexit.register
def _close_all() -> None:
    for writer in list(_OPEN):
        writer.close()
