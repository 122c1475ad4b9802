"""LineWriter: every line written on close, a blocked stream never blocks the caller, drops are
counted and exported. A blocked stream is a writer whose ``write`` waits on an event."""

from __future__ import annotations

import io
import threading

import pytest
from prometheus_client import generate_latest

from ivrhooks.observe.logwriter import LineWriter, dropped_lines
from ivrhooks.observe.metrics import Metrics


class BlockedStream(io.StringIO):
    """A stream whose writes wait until ``release`` is set, like a pipe nobody reads."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()
        self.entered = threading.Event()

    def write(self, text: str) -> int:
        self.entered.set()
        self.release.wait()
        return super().write(text)


@pytest.mark.parametrize("count", [1, 10, 5000], ids=["one", "ten", "many-batches"])
def test_close_writes_every_line_in_order(count: int) -> None:
    stream = io.StringIO()
    writer = LineWriter(stream, batch=1024)
    lines = [f'{{"n": {n}}}\n' for n in range(count)]
    for line in lines:
        assert writer.write(line)
    writer.close()
    assert stream.getvalue() == "".join(lines)
    assert writer.dropped == 0


def test_flush_waits_for_what_was_queued_before_it() -> None:
    stream = io.StringIO()
    writer = LineWriter(stream, interval=60)  # the timer alone would not write for a minute
    writer.write("a\n")
    assert writer.flush(timeout=30)
    assert stream.getvalue() == "a\n"
    writer.close()


def test_a_blocked_stream_never_blocks_the_caller_and_drops_are_counted() -> None:
    stream = BlockedStream()
    writer = LineWriter(stream, limit=1000, batch=100, close_timeout=30)
    before = dropped_lines()
    writer.write("x" * 99 + "\n", urgent=True)
    assert stream.entered.wait(30)  # the writer thread is now stuck in write()
    accepted = 1
    # Each call returns while the stream is blocked; past the limit lines are refused.
    for _ in range(50):
        accepted += writer.write("y" * 99 + "\n")
    assert accepted == 10  # 1,000 characters: the stuck batch and nine more lines
    assert writer.dropped == 41
    assert dropped_lines() - before == 41
    stream.release.set()
    writer.close()
    assert stream.getvalue().count("\n") == accepted  # what was accepted was written
    assert dropped_lines() - before == 41  # a closed writer's drops still count


def test_the_dropped_counter_is_exported() -> None:
    stream = BlockedStream()
    writer = LineWriter(stream, limit=10, close_timeout=30)
    writer.write("123456789\n", urgent=True)
    assert stream.entered.wait(30)
    writer.write("refused\n")
    text = generate_latest(Metrics().registry).decode()
    [sample] = [line for line in text.splitlines() if line.startswith("ivrhooks_log_lines_")]
    assert sample.startswith("ivrhooks_log_lines_dropped_total ")
    assert float(sample.split()[1]) == dropped_lines() >= 1
    stream.release.set()
    writer.close()


def test_close_gives_up_on_a_stream_that_never_drains() -> None:
    stream = BlockedStream()
    writer = LineWriter(stream, close_timeout=0.01)
    writer.write("stuck\n", urgent=True)
    assert stream.entered.wait(30)
    writer.close()  # returns: an exiting process must not hang on its log pipe
    assert not writer.write("after close\n")
    stream.release.set()


def test_a_stream_error_loses_only_that_batch() -> None:
    class Broken(io.StringIO):
        def write(self, text: str) -> int:
            raise BrokenPipeError("reader went away")

    writer = LineWriter(Broken())
    writer.write("a\n")
    writer.write("b\n")
    writer.close()
    assert writer.failed == 2


@pytest.mark.parametrize(
    "options",
    [{"interval": 0}, {"limit": 0}, {"batch": 0}],
    ids=["interval", "limit", "batch"],
)
def test_bad_options_are_refused(options: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="positive"):
        LineWriter(io.StringIO(), **options)  # type: ignore[arg-type]
