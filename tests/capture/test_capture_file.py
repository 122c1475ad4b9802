"""The capture file: rotated at its cap, bounded in memory, and a disk that fails mid-run costs
lines (counted), never an answer."""

from __future__ import annotations

import asyncio
import json
import shutil
import time
from pathlib import Path

from ivrhooks import IVRHooks, call
from ivrhooks.conf.capture import CaptureConfig
from ivrhooks.observe.capturefile import CaptureFile
from ivrhooks.testing import RunningApp, running

LINE = "x" * 99 + "\n"  # 100 bytes


def _kept(path: Path, files: int) -> list[Path]:
    return [p for p in [*(Path(f"{path}.{n}") for n in range(files, 0, -1)), path] if p.exists()]


def test_the_file_rotates_before_it_would_pass_its_cap(tmp_path: Path) -> None:
    path = tmp_path / "calls.jsonl"
    writer = CaptureFile(str(path), max_bytes=1000, files=2)
    lines = [f"{n:03d}" + LINE[3:] for n in range(35)]
    try:
        for line in lines:
            assert writer.write(line)
            if int(line[:3]) % 7 == 0:
                assert writer.flush(5)  # batches of several sizes
    finally:
        writer.close()
    kept = _kept(path, 3)
    print(f"rotations: {writer.rotations}; sizes: {[p.stat().st_size for p in kept]}")
    assert [p.name for p in kept] == ["calls.jsonl.2", "calls.jsonl.1", "calls.jsonl"]
    assert all(p.stat().st_size <= 1000 for p in kept)
    assert writer.written == 35 and writer.rotations == 3
    # The oldest file went; what is kept is the newest lines, whole and in order.
    text = "".join(p.read_text() for p in kept)
    assert text == "".join(lines[-len(text) // 100 :])
    assert len(text) // 100 == 25


def test_a_line_larger_than_the_cap_gets_a_file_of_its_own(tmp_path: Path) -> None:
    path = tmp_path / "calls.jsonl"
    writer = CaptureFile(str(path), max_bytes=150, files=3)
    try:
        for line in (LINE, "y" * 299 + "\n", LINE):
            writer.write(line)
            writer.flush(5)
    finally:
        writer.close()
    sizes = [p.stat().st_size for p in _kept(path, 3)]
    assert sizes == [100, 300, 100]


def test_past_its_buffer_a_line_is_dropped_and_counted_without_waiting(tmp_path: Path) -> None:
    path = tmp_path / "calls.jsonl"
    # A writer that waits a minute between writes: nothing leaves the buffer meanwhile.
    writer = CaptureFile(str(path), max_bytes=1 << 20, files=1, interval=60, limit=250, batch=10**6)
    try:
        started = time.perf_counter()
        accepted = [writer.write(LINE) for _ in range(5)]
        took = time.perf_counter() - started
    finally:
        writer.close()  # writes what the buffer held
    print(f"5 writes, 3 past the buffer: {took * 1e6:.0f} µs")
    assert accepted == [True, True, False, False, False]
    assert (writer.dropped, writer.written) == (3, 2)
    assert path.read_text() == LINE * 2


def _app(capture: CaptureConfig) -> IVRHooks:
    app = IVRHooks(receptionists=["8000"], env=False, capture=capture)

    @app.dtmf("1")
    async def sales(req: object) -> object:
        return call("2001")

    return app


async def _lines(harness: RunningApp, result: str, at_least: int) -> float:
    registry = harness.runtime.metrics.registry
    deadline = time.monotonic() + 10
    while True:  # the capture is written by a thread, a moment after the answer
        value = registry.get_sample_value("ivrhooks_capture_lines_total", {"result": result}) or 0
        if value >= at_least or time.monotonic() > deadline:
            return value
        await asyncio.sleep(0.02)


async def test_requests_served_over_http_rotate_the_capture_at_its_cap(tmp_path: Path) -> None:
    path = tmp_path / "calls.jsonl"
    async with running(_app(CaptureConfig(file=str(path), max_bytes=4096, files=2))) as harness:
        for n in range(40):
            r = await harness.pbx.dial(
                to="8000", caller="101", digits="1", session_id=f"{n + 1:06d}"
            )
            assert r.destination == "2001"
        assert await _lines(harness, "written", 40) == 40
    kept = _kept(path, 3)
    assert [p.name for p in kept] == ["calls.jsonl.2", "calls.jsonl.1", "calls.jsonl"]
    assert all(p.stat().st_size <= 4096 for p in kept)
    sessions = [
        json.loads(line)["fields"]["session_id"]
        for p in kept
        for line in p.read_text().splitlines()
    ]
    assert sessions == [f"{n:06d}" for n in range(41 - len(sessions), 41)]


async def test_a_capture_directory_removed_mid_run_costs_lines_not_answers(
    tmp_path: Path,
) -> None:
    where = tmp_path / "captures"
    where.mkdir()
    path = where / "calls.jsonl"
    async with running(_app(CaptureConfig(file=str(path)))) as harness:
        assert (await harness.dial("8000", "101", "1")).destination == "2001"
        assert await _lines(harness, "written", 1) == 1
        shutil.rmtree(where)  # the file and its directory: nothing to open again
        for _ in range(3):
            answered = await harness.dial("8000", "101", "1")
            assert (answered.status, answered.destination) == (200, "2001")
        failed = await _lines(harness, "failed", 3)
        ready = harness.runtime.status.ready
    print(f"directory removed: {failed:g} lines failed")
    assert failed == 3 and ready
