"""What one request line costs the event loop, by mechanism (issue 16).

    python bench/request_log.py [--lines 200000]

Each mechanism writes the same request line ``--lines`` times to a real file (so the write and
flush system calls are paid as on stderr redirected to a file or a pipe), timed on the calling
thread; for the buffered ones the writer thread's own work runs beside it, as under load, and the
figure is taken after the last line is written. Rows:

- ``stdlib StreamHandler``: ``logger.info(extra=...)`` through ``JSONFormatter`` and a
  ``StreamHandler`` (what ``ivrhooks run`` did before: format, lock, write, flush per line).
- ``stdlib -> writer thread``: the same record and formatter, queued on a ``LineWriter``.
- ``json.dumps dict -> writer``: the line as a dict through ``json.dumps``, queued.
- ``orjson dict -> writer``: the same dict through ``orjson.dumps`` (if installed), queued.
- ``pre-rendered -> writer``: :func:`ivrhooks.requestline.render_request_line`, queued
  (what ``ivrhooks run`` does now).
- ``logger at WARNING``: the request logger turned down, for the floor.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ivrhooks.observe.logformat import JSONFormatter
from ivrhooks.observe.logs import mask_number
from ivrhooks.observe.logwriter import LineWriter, WriterHandler
from ivrhooks.observe.requestline import render_request_line, timestamp

FIELDS = {
    "session_id": "bench-session-0001",
    "receptionist": "8000",
    "route": "r500",
    "kind": "DTMF",
    "action": "call",
    "destination": "2001",
    "auth": "basic",
    "latency_ms": 0.0731,
    "deadline_hit": False,
    "fallback_cause": None,
    "caller": "5551234",
    "status": 200,
}


def _extra() -> dict[str, object]:
    extra = dict(FIELDS)
    extra["latency_ms"] = round(0.0731, 2)
    extra["caller"] = mask_number("5551234")
    return extra


def _logger(handler: logging.Handler, level: int = logging.INFO) -> logging.Logger:
    logger = logging.getLogger("ivrhooks.bench.request")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(level)
    handler.setFormatter(JSONFormatter())
    return logger


def _time(lines: int, one: Callable[[], None], done: Callable[[], None]) -> float:
    started = time.perf_counter()
    for _ in range(lines):
        one()
    done()
    return (time.perf_counter() - started) / lines * 1e6


def run(lines: int) -> dict[str, float]:
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:

        def stream(name: str) -> object:
            return open(Path(tmp) / name, "w", encoding="utf-8")

        # 1. stdlib through a StreamHandler
        out = stream("stdlib.log")
        handler: logging.Handler = logging.StreamHandler(out)  # type: ignore[arg-type]
        logger = _logger(handler)
        results["stdlib StreamHandler"] = _time(
            lines, lambda: logger.info("request", extra=_extra()), lambda: None
        )
        out.close()  # type: ignore[attr-defined]

        def buffered(name: str, one: Callable[[LineWriter], None]) -> None:
            out = stream(name)
            writer = LineWriter(out, limit=1 << 30)  # type: ignore[arg-type]
            results[name] = _time(lines, lambda: one(writer), writer.close)
            assert writer.dropped == 0
            out.close()  # type: ignore[attr-defined]

        # 2. stdlib record, formatter, then the writer thread
        def through_handler(writer: LineWriter) -> None:
            logger.info("request", extra=_extra())

        out = stream("handler.log")
        writer = LineWriter(out, limit=1 << 30)  # type: ignore[arg-type]
        logger = _logger(WriterHandler(writer))
        results["stdlib -> writer thread"] = _time(
            lines, lambda: through_handler(writer), writer.close
        )
        out.close()  # type: ignore[attr-defined]

        def as_dict() -> dict[str, object]:
            return {
                "ts": timestamp(time.time()),
                "level": "INFO",
                "logger": "ivrhooks.request",
                "event": "request",
                **_extra(),
            }

        buffered(
            "json.dumps dict -> writer",
            lambda w: w.write(json.dumps(as_dict(), ensure_ascii=False) + "\n"),
        )
        try:
            import orjson
        except ImportError:
            print("orjson not installed: its row is skipped (pip install orjson)")
        else:
            buffered(
                "orjson dict -> writer",
                lambda w: w.write(
                    orjson.dumps(as_dict(), option=orjson.OPT_APPEND_NEWLINE).decode()
                ),
            )

        def pre_rendered(w: LineWriter) -> None:
            w.write(
                render_request_line(
                    time.time(),
                    "ivrhooks.request",
                    FIELDS["session_id"],  # type: ignore[arg-type]
                    "8000",
                    "r500",
                    "DTMF",
                    "call",
                    "2001",
                    "basic",
                    0.0731,
                    False,
                    None,
                    mask_number("5551234"),
                    200,
                )
            )

        buffered("pre-rendered -> writer", pre_rendered)
        quiet = _logger(logging.NullHandler(), logging.WARNING)
        results["logger at WARNING"] = _time(
            lines, lambda: quiet.isEnabledFor(logging.INFO) and None, lambda: None
        )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    rounds = [run(args.lines) for _ in range(args.rounds)]
    print(f"{args.lines} request lines to a file, python {sys.version.split()[0]}; µs per line")
    base = min(r["stdlib StreamHandler"] for r in rounds)
    for name in rounds[0]:
        best = min(r[name] for r in rounds)
        print(f"  {name:28} {best:6.2f} µs  ({best / base:5.2f} of stdlib)")


if __name__ == "__main__":
    main()
