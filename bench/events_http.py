"""PortSIP's events over real HTTP: how many events ``ivrhooks run`` accepts per second and how long
the PBX waits for each 200, as shipped and with the Redis inbox, beside the inbox alone; and what
a presence read costs inside a handler, in memory and in Redis. All in one run.

    python bench/events_http.py [--seconds S] [--warmup S] [--connections C]
                                [--inbox-events N] [--presence-reads N]

Rows:

- ``run, as shipped``: ``ivrhooks run bench/apps/events.py:app`` with its defaults (its logging,
  kept in a file as a supervisor would; the memory inbox; the embedded fake PBX), loaded once
  ``/readyz`` answers 200 and a warm-up load was handled. The baseline of every ratio.
- ``run, Redis inbox``: the same with ``IVRHOOKS_REDIS_URL`` (a redis-server of the bench's own).
  Both apps start at once and are ready before the first load; each is stopped after its row.
- ``inbox alone, memory`` and ``inbox alone, Redis``: ``Inbox.accept`` called directly, ``C``
  callers at once (bench/events.py's measure), no HTTP, no auth, no parsing: what the served
  path adds to storing an event is the difference.

The load is ``wrk -t1 -cC`` for ``S`` seconds (an httpx client when wrk is absent: slower
itself, read the ratios), each request a new ``call_cdr`` of about 1 KiB with the CDR URL's
Basic credentials; the ack latency is wrk's, from the request sent to its 200. A 503 (backlog
full) is counted in "not 200", not hidden. "drained" is how long the handler (which only counts)
took to finish the stored events after the load stopped.

Presence (``bench/presence_read.py``): a route handler times its own ``await
req.presence("2001")`` on an app served on loopback in this process, after an extension event
said 2001 is available; the memory store, then the Redis store.

Checked outside the timed spans, the bench stopping with the reason otherwise: every 200 stored
one event (the app's ``ivrhooks_events_total{outcome="accepted"}`` equals wrk's 2xx count, give
or take the requests in flight when wrk stopped; no duplicate), every other answer was a 503
counted as ``full`` or ``unavailable``, every stored event was then handled; every presence read
said "available" (the handler forwards to 2001 only then), and for Redis no store operation fell
back to memory and the presence key is in redis-server.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from prometheus_client.parser import text_string_to_metric_families  # noqa: E402

from bench.events import accept_all, call_cdr, check_and_drain  # noqa: E402
from bench.presence_read import basic, presence_row  # noqa: E402
from bench.redis_proc import redis_server  # noqa: E402
from ivrhooks.conf.events import EventsConfig  # noqa: E402
from ivrhooks.events.inbox import Inbox, MemoryInbox  # noqa: E402
from ivrhooks.events.inbox.redis import RedisInbox  # noqa: E402
from ivrhooks.testing import free_port  # noqa: E402

APP = "bench/apps/events.py:app"
WRK_DIR = ROOT / "bench" / "wrk"
#: name, accepted/s, p50 ms, p99 ms, answers not 200, handled/s, seconds to drain after the load
Row = tuple[str, float, float, float, float, float, float | None]


def outcomes(url: str) -> dict[str, float]:
    text = httpx.get(url + "/metrics", timeout=10).text
    return {
        s.labels["outcome"]: s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "ivrhooks_events_total"
    }


@contextlib.contextmanager
def ivrhooks_run(env: dict[str, str], log: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """``ivrhooks run APP`` as shipped (plus ``env``), started; yields it and its base URL, and
    stops it at the end (see :func:`ready`)."""
    port = free_port()
    environ = {k: v for k, v in os.environ.items() if not k.startswith("IVRHOOKS_")}
    environ.update(env, PYTHONPATH=str(ROOT))
    command = [sys.executable, "-m", "ivrhooks", "run", APP, "--port", str(port)]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*command, "--pbx-port", str(free_port())],
            cwd=ROOT,
            env=environ,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield proc, f"http://127.0.0.1:{port}"
    finally:
        stop(proc)


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM, as a supervisor stops it; killed if it has not ended 15 s later."""
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def ready(proc: subprocess.Popen[bytes], url: str, log: Path) -> str:
    """``url`` once the app answers ``/readyz`` with 200 (a bounded poll: the server starts in
    another process)."""
    deadline = time.monotonic() + 120
    while True:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url + "/readyz", timeout=1).status_code == 200:
                return url
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"ivrhooks run did not get ready; its log:\n{log.read_text()[-3000:]}")
        time.sleep(0.05)


def wrk_load(url: str, seconds: float, connections: int, tag: str, tmp: Path) -> dict[str, float]:
    template = tmp / "event.json"
    template.write_text(json.dumps(call_cdr(0)).replace('"1000000000"', '"{n}"'))
    script = tmp / "event-report.lua"
    script.write_text((WRK_DIR / "event.lua").read_text() + (WRK_DIR / "report.lua").read_text())
    command = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency"]
    target = [url + "/events/cdr", "--", basic("events-cdr"), str(template), tag]
    out = subprocess.run(
        [*command, "-s", str(script), *target], capture_output=True, text=True, check=True
    ).stdout
    line = next(line for line in out.splitlines() if line.startswith("WRKJSON "))
    raw: dict[str, float] = json.loads(line[len("WRKJSON ") :])
    return raw


async def _httpx_load(url: str, seconds: float, connections: int, tag: str) -> dict[str, float]:
    latencies: list[float] = []
    counts = {"requests": 0, "non2xx": 0, "errors": 0}
    body = json.dumps(call_cdr(0))
    stop = time.perf_counter() + seconds
    headers = {"Authorization": basic("events-cdr"), "Content-Type": "application/json"}

    async def worker(index: int, http: httpx.AsyncClient) -> None:
        n = 0
        while time.perf_counter() < stop:
            n += 1
            content = body.replace('"1000000000"', f'"{tag}-{index}-{n}"')
            began = time.perf_counter()
            try:
                answer = await http.post(url + "/events/cdr", content=content, headers=headers)
            except httpx.HTTPError:
                counts["errors"] += 1
                continue
            latencies.append(time.perf_counter() - began)
            counts["requests"] += 1
            counts["non2xx"] += answer.status_code != 200

    began = time.perf_counter()
    async with httpx.AsyncClient(timeout=10) as http:
        await asyncio.gather(*(worker(i, http) for i in range(connections)))
    cuts = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    return {
        **counts,
        "duration_us": (time.perf_counter() - began) * 1e6,
        "p50_us": cuts[49] * 1e6,
        "p99_us": cuts[98] * 1e6,
    }


def load(url: str, seconds: float, connections: int, tag: str, tmp: Path) -> dict[str, float]:
    if shutil.which("wrk"):
        return wrk_load(url, seconds, connections, tag, tmp)
    return asyncio.run(_httpx_load(url, seconds, connections, tag))


def drained(name: str, url: str) -> dict[str, float]:
    """The outcomes once every stored event was handled (a bounded poll)."""
    deadline = time.monotonic() + 300
    while (found := outcomes(url))["handled"] + found["dead"] < found["accepted"]:
        if time.monotonic() > deadline:
            raise SystemExit(f"{name}: stored events were not handled: {found}")
        time.sleep(0.02)
    if found["dead"]:
        raise SystemExit(f"{name}: the counting handler failed: {found}")
    return found


def http_row(name: str, url: str, args: argparse.Namespace, tag: str, tmp: Path) -> Row:
    """The row of the app at ``url``, ready and idle until now."""
    if args.warmup:
        load(url, args.warmup, args.connections, f"{tag}w", tmp)
    before = drained(name, url)
    raw = load(url, args.seconds, args.connections, tag, tmp)
    ok = raw["requests"] - raw["non2xx"]
    now = outcomes(url)
    found = {k: v - before[k] for k, v in now.items()}
    # wrk does not count the requests in flight when it stops; the app may have stored them.
    if not ok <= found["accepted"] <= ok + args.connections or found["duplicate"]:
        raise SystemExit(f"{name}: {ok:.0f} answered 200 but the app says {found}")
    if raw["errors"] or raw["non2xx"] > found["full"] + found["unavailable"]:
        raise SystemExit(f"{name}: answers other than 200 or 503: {raw} {found}")
    stopped = time.perf_counter()
    drained(name, url)
    after = time.perf_counter() - stopped
    seconds = raw["duration_us"] / 1e6
    handled = found["accepted"] / (seconds + after)  # all of it: during the load and after
    p50, p99 = raw["p50_us"] / 1000, raw["p99_us"] / 1000
    return name, ok / seconds, p50, p99, raw["non2xx"], handled, after


async def inbox_row(name: str, make: Any, total: int, callers: int) -> Row:
    inbox: Inbox = make()
    try:  # warm: connections, scripts
        await accept_all(inbox, min(200, total), callers)
        await check_and_drain(inbox, min(200, total))
    finally:
        await inbox.close()
    inbox = make()
    try:
        elapsed, latencies = await accept_all(inbox, total, callers)  # stops if one is not stored
        handling = await check_and_drain(inbox, total)  # the backlog, copies refused, each once
    finally:
        await inbox.close()
    cuts = statistics.quantiles(latencies, n=100)
    return name, total / elapsed, cuts[49] * 1000, cuts[98] * 1000, 0, total / handling, None


def main(args: argparse.Namespace) -> None:
    rows: list[Row] = []
    reads, events, callers = args.presence_reads, args.inbox_events, args.connections
    tool = "wrk -t1" if shutil.which("wrk") else "an httpx client (wrk not found)"
    print(
        f"events over HTTP: {tool} -c{callers}, {args.seconds:g} s a row after {args.warmup:g} s "
        f"of warm-up; inbox alone: {events} events, {callers} callers; "
        f"python {sys.version.split()[0]}"
    )
    config = EventsConfig(backlog=10_000_000)
    # The presence rows' request lines are not what they time: quiet, so the figures show.
    logging.getLogger("ivrhooks").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory() as tmpdir, redis_server() as url:
        tmp = Path(tmpdir)
        http: list[tuple[str, dict[str, str], str]] = [("run, as shipped (memory)", {}, "a")]
        if url is not None:
            http.append(("run, Redis inbox", {"IVRHOOKS_REDIS_URL": url}, "b"))
        with contextlib.ExitStack() as apps:
            # Started together, and all ready before any load: a row's load never shares the
            # machine with another app's start; the others wait idle (their inbox's blocking
            # read) and each is stopped once its row is done.
            started = [
                (title, tag, apps.enter_context(ivrhooks_run(env, tmp / f"{tag}.log")))
                for title, env, tag in http
            ]
            urls = [ready(proc, at, tmp / f"{tag}.log") for _, tag, (proc, at) in started]
            for (title, tag, (proc, _)), app_url in zip(started, urls, strict=True):
                rows.append(http_row(title, app_url, args, tag, tmp))
                stop(proc)
        mem = ("inbox alone, memory", lambda: MemoryInbox(config))
        rows.append(asyncio.run(inbox_row(*mem, events, callers)))
        presence = [asyncio.run(presence_row("memory", None, reads))]
        if url is not None:
            ids = iter(range(1_000_000))
            red = ("inbox alone, Redis", lambda: RedisInbox(config, url, app_id=f"b{next(ids)}"))
            rows.append(asyncio.run(inbox_row(*red, events, callers)))
            presence.append(asyncio.run(presence_row("Redis", url, reads)))
        else:
            print("redis-server is not installed: no Redis rows")
    base = rows[0]
    head = ("accepted/s", "p50 ms", "p99 ms", "/s ratio", "p50 ratio", "not 200", "handled/s")
    print(f"\n{'row':30}" + "".join(f"{h:>11}" for h in head) + f"{'drained':>9}")
    for name, rate, p50, p99, refused, handled, after in rows:
        cells = [f"{rate:,.0f}", f"{p50:.3f}", f"{p99:.3f}", f"{rate / base[1]:.2f}"]
        cells += [f"{p50 / base[2]:.2f}", f"{refused:.0f}", f"{handled:,.0f}"]
        drain = "-" if after is None else f"{after:.2f} s"
        print(f"{name:30}" + "".join(f"{c:>11}" for c in cells) + f"{drain:>9}")
    print(f"\npresence read inside a handler ({reads} reads; microseconds)")
    for name, p50, p99 in presence:
        print(f"  {name:8} p50 {p50:8.1f}  p99 {p99:8.1f}")
    print(
        "verified: every 200 stored one event and every stored event was handled; every "
        "presence read said available, the Redis ones from redis-server"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5, help="load per HTTP row")
    parser.add_argument("--connections", type=int, default=16, help="concurrent connections")
    parser.add_argument("--inbox-events", type=int, default=20_000, help="inbox-alone events")
    parser.add_argument("--presence-reads", type=int, default=2000, help="reads per store")
    parser.add_argument("--warmup", type=float, default=1, help="seconds of load first (0: none)")
    main(parser.parse_args())
