"""End-to-end benchmark: ivrhooks against bare Starlette, raw ASGI and FastAPI, over loopback.

    python bench/e2e.py            # full run: 5 s per run, 5 rounds, 60 s memory soak
    python bench/e2e.py --quick    # 2 s per run, 2 rounds, 10 s soak

Every app runs in its own subprocess on 127.0.0.1. Most rows run under the same uvicorn settings
(uvloop, httptools, no access log, one worker); the ``ivrhooks run`` rows run the CLI exactly as
users do (its default logging, its own server settings, the embedded fake PBX, ready once
``/readyz`` is 200), and ``bare GET, uvicorn defaults`` runs plain ``uvicorn bench.apps.bare:app``
(access log on). Every server's stderr goes into a pipe drained by ``tail`` (as under a process
supervisor or a container runtime), which keeps the last 64 KiB to show if the server fails.
``wrk -t1 -c32`` (or bench/loadgen.py when wrk is absent) drives each scenario in turn, round
after round (A B C ... A B C ...), so the machine's noise falls on every row alike; medians are
reported. docs/performance.md says what each row measures.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from bench.apps import DECISION, SECRET, query_for, target_route  # noqa: E402
from ivrhooks.core.auth import derive_credentials  # noqa: E402

WRK_DIR = ROOT / "bench" / "wrk"
UVICORN = ["--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level", "warning"]


@dataclass(frozen=True)
class App:
    target: str  # uvicorn import string, or the APP argument of `ivrhooks run`
    routes: int = 1  # routes the app serves (only ivrhooks apps have more than one)
    scheme: str = "none"
    factory: bool = False
    needs: str = ""  # a module that must be importable, else the rows are skipped
    #: "bench": uvicorn with UVICORN above; "defaults": plain `uvicorn APP`; "run": `ivrhooks run`
    runner: str = "bench"
    run_args: tuple[str, ...] = ()  # extra `ivrhooks run` options
    env: tuple[tuple[str, str], ...] = ()  # extra environment (IVRHOOKS_REDIS_URL, say)


@dataclass(frozen=True)
class Scenario:
    name: str
    app: str
    method: str = "GET"
    auth: str = "none"  # basic | digest | bearer | none: what the load sends


APPS = {
    "raw": App("bench.apps.raw:app"),
    "bare": App("bench.apps.bare:app"),
    "fastapi": App("bench.apps.fastapi_basic:app", routes=1000, needs="fastapi"),
    **{
        f"ivr-{scheme}-{n}": App("bench.apps.ivr:create", n, scheme, factory=True)
        for scheme, n in [
            ("basic", 10),
            ("basic", 1000),
            ("basic", 10000),
            ("digest", 1000),
            ("bearer", 1000),
        ]
    },
    "bare-defaults": App("bench.apps.bare:app", runner="defaults"),
    **{
        f"run-{scheme}-{n}{suffix}": App(
            "bench/apps/ivr_run.py:app", n, scheme, runner="run", run_args=args
        )
        for scheme, n, suffix, args in [
            ("basic", 10, "", ()),
            ("basic", 1000, "", ()),
            ("basic", 1000, "-quiet", ("--log-level", "warning")),
            ("basic", 10000, "", ()),
            ("digest", 1000, "", ()),
        ]
    },
    # OpenTelemetry not installed, imported with no provider, and the SDK tracing every request
    # (bench/apps/ivr_otel.py): `ivrhooks run` as shipped otherwise.
    **{
        f"run-basic-1000-otel-{mode}": App(
            "bench/apps/ivr_otel.py:app", 1000, "basic", runner="run", env=(("BENCH_OTEL", mode),)
        )
        for mode in ("absent", "off", "sdk")
    },
}
SCENARIOS = [
    Scenario("bare GET", "bare"),
    Scenario("ivrhooks basic 1k GET", "ivr-basic-1000", auth="basic"),
    Scenario("raw ASGI GET", "raw"),
    Scenario("bare POST", "bare", method="POST"),
    Scenario("ivrhooks basic 1k POST", "ivr-basic-1000", method="POST", auth="basic"),
    Scenario("ivrhooks bearer 1k GET", "ivr-bearer-1000", auth="bearer"),
    Scenario("ivrhooks digest 1k GET", "ivr-digest-1000", auth="digest"),
    Scenario("ivrhooks basic 10 GET", "ivr-basic-10", auth="basic"),
    Scenario("ivrhooks basic 10k GET", "ivr-basic-10000", auth="basic"),
    Scenario("FastAPI HTTPBasic GET", "fastapi", auth="basic"),
    Scenario("bare GET uvicorn defaults", "bare-defaults"),
    Scenario("ivrhooks run basic 1k GET", "run-basic-1000", auth="basic"),
    Scenario("ivrhooks run quiet 1k GET", "run-basic-1000-quiet", auth="basic"),
    Scenario("ivrhooks run basic 1k POST", "run-basic-1000", method="POST", auth="basic"),
    Scenario("ivrhooks run digest 1k GET", "run-digest-1000", auth="digest"),
    Scenario("ivrhooks run basic 10 GET", "run-basic-10", auth="basic"),
    Scenario("ivrhooks run basic 10k GET", "run-basic-10000", auth="basic"),
    Scenario("ivrhooks run no otel 1k GET", "run-basic-1000-otel-absent", auth="basic"),
    Scenario("ivrhooks run otel off 1k GET", "run-basic-1000-otel-off", auth="basic"),
    Scenario("ivrhooks run traced 1k GET", "run-basic-1000-otel-sdk", auth="basic"),
]
# (label, numerator, denominator, target ratio or None)
RATIOS = [
    ("ivrhooks basic 1k / bare (GET)", "ivrhooks basic 1k GET", "bare GET", 1.0),
    ("ivrhooks basic 1k / bare (POST)", "ivrhooks basic 1k POST", "bare POST", None),
    ("ivrhooks bearer 1k / bare", "ivrhooks bearer 1k GET", "bare GET", None),
    ("ivrhooks digest 1k / bare", "ivrhooks digest 1k GET", "bare GET", None),
    ("ivrhooks basic 10k / 10 routes", "ivrhooks basic 10k GET", "ivrhooks basic 10 GET", 0.95),
    ("FastAPI HTTPBasic / bare", "FastAPI HTTPBasic GET", "bare GET", None),
    ("raw ASGI / bare", "raw ASGI GET", "bare GET", None),
    ("bare, uvicorn defaults / bare", "bare GET uvicorn defaults", "bare GET", None),
    # ivrhooks as users run it (issue 16 targets)
    ("ivrhooks run (request line on) / bare", "ivrhooks run basic 1k GET", "bare GET", 1.2),
    ("ivrhooks run --log-level warning / bare", "ivrhooks run quiet 1k GET", "bare GET", 1.5),
    ("ivrhooks run POST / bare POST", "ivrhooks run basic 1k POST", "bare POST", 1.0),
    ("ivrhooks run digest / bare", "ivrhooks run digest 1k GET", "bare GET", 0.45),
    (
        "ivrhooks run 10k / 10 routes",
        "ivrhooks run basic 10k GET",
        "ivrhooks run basic 10 GET",
        0.95,
    ),
    # tracing (issue 17): off must cost nothing; on is the price of a span per request
    (
        "otel imported, no provider / no otel",
        "ivrhooks run otel off 1k GET",
        "ivrhooks run no otel 1k GET",
        None,
    ),
    ("traced (SDK) / no otel", "ivrhooks run traced 1k GET", "ivrhooks run no otel 1k GET", None),
    ("traced (SDK) / bare", "ivrhooks run traced 1k GET", "bare GET", None),
]
# (numerator, denominator): p99 of the first no worse than the second's
P99 = [
    ("ivrhooks basic 1k GET", "bare GET"),
    ("ivrhooks run basic 1k GET", "bare GET"),
    ("ivrhooks run quiet 1k GET", "bare GET"),
]


@dataclass
class Server:
    app: App
    port: int
    proc: subprocess.Popen[bytes]
    url: str = field(init=False)
    listening_s: float = 0.0  # from the start of the process to accepting connections
    ready_s: float = 0.0  # ... to /readyz 200 (ivrhooks run: the routes registered)
    ready_rss_kib: int = 0

    def __post_init__(self) -> None:
        n = target_route(self.app.routes)
        self.url = f"http://127.0.0.1:{self.port}/hooks/r{n}?{query_for(n)}"

    @property
    def credentials(self) -> tuple[str, str, str]:
        creds = derive_credentials(SECRET, f"r{target_route(self.app.routes)}")
        return creds.username, creds.password, creds.token

    def status(self, key: str) -> int:
        """A /proc/<pid>/status figure in KiB (VmRSS now, VmHWM peak)."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
        raise KeyError(key)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def command(app: App, port: int) -> list[str]:
    if app.runner == "run":
        cmd = [sys.executable, "-m", "ivrhooks", "run", app.target, "--port", str(port)]
        return [*cmd, "--pbx-port", str(_free_port()), *app.run_args]
    cmd = [sys.executable, "-m", "uvicorn", app.target, "--port", str(port), "--host", "127.0.0.1"]
    return cmd + (UVICORN if app.runner == "bench" else []) + (["--factory"] if app.factory else [])


def _wait_until(what: str, proc: subprocess.Popen[bytes], ready: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 600  # 10,000 routes register on the embedded PBX first
    while not ready():  # bounded poll: the only way to know a subprocess's server is up
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start within 600 s")
        time.sleep(0.02)


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), 1).close()
    except OSError:
        return False
    return True


def _ready(port: int) -> bool:
    with contextlib.suppress(httpx.HTTPError):
        return httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200
    return False


@contextlib.contextmanager
def serve(app: App) -> Iterator[Server]:
    port = _free_port()
    env = {
        **os.environ,
        "BENCH_ROUTES": str(app.routes),
        "BENCH_SCHEME": app.scheme,
        "PYTHONPATH": str(ROOT),
        **dict(app.env),
    }
    env = {k: v for k, v in env.items() if not k.startswith("IVRHOOKS_")}
    env.update(app.env)
    # The server's stderr (its log: request lines, uvicorn's access log, one "auth rejected:
    # missing" line per Digest challenge) goes into a pipe that `tail` drains, as a supervisor
    # would read it; the last 64 KiB are shown only if the server fails.
    with tempfile.TemporaryFile() as tail_out:
        drain = subprocess.Popen(["tail", "-c", "65536"], stdin=subprocess.PIPE, stdout=tail_out)
        started = time.monotonic()
        # stdout too: uvicorn's access log goes there, `ivrhooks run` prints its URLs there.
        proc = subprocess.Popen(
            command(app, port), cwd=ROOT, env=env, stdout=drain.stdin, stderr=drain.stdin
        )
        assert drain.stdin is not None
        drain.stdin.close()  # the server holds the write end now
        server = Server(app, port, proc)
        try:
            try:
                _wait_until(app.target, proc, lambda: _listening(port))
                server.listening_s = time.monotonic() - started
                if app.runner == "run":
                    _wait_until(app.target, proc, lambda: _ready(port))
                server.ready_s = time.monotonic() - started
                server.ready_rss_kib = server.status("VmRSS")
            except RuntimeError:
                proc.kill()
                proc.wait()
                drain.wait()
                tail_out.seek(0)
                sys.stderr.write(tail_out.read().decode(errors="replace")[-4000:])
                raise
            yield server
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            drain.wait()


def probe(server: Server, scenario: Scenario) -> None:
    """One request with an independent client (httpx): 200 and the exact decision, or abort."""
    user, password, token = server.credentials
    auth: httpx.Auth | None = None
    headers = {}
    if scenario.auth == "basic":
        auth = httpx.BasicAuth(user, password)
    elif scenario.auth == "digest":
        auth = httpx.DigestAuth(user, password)
    elif scenario.auth == "bearer":
        headers["Authorization"] = f"Bearer {token}"
    url, _, query = server.url.partition("?")
    if scenario.method == "POST":
        body = dict(pair.split("=") for pair in query.split("&"))
        reply = httpx.post(url, json=body, auth=auth, headers=headers)
    else:
        reply = httpx.get(server.url, auth=auth, headers=headers)
    if reply.status_code != 200 or json.loads(reply.content) != json.loads(DECISION):
        raise SystemExit(f"{scenario.name}: probe answered {reply.status_code} {reply.text!r}")


def load_command(server: Server, scenario: Scenario, seconds: int, tmp: Path) -> list[str]:
    user, password, token = server.credentials
    header = ""
    if scenario.auth == "basic":
        header = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
    elif scenario.auth == "bearer":
        header = f"Bearer {token}"
    url, _, query = server.url.partition("?")
    body = json.dumps(dict(pair.split("=") for pair in query.split("&")))
    target = server.url[len(f"http://127.0.0.1:{server.port}") :]
    if shutil.which("wrk") is None:
        cmd = [sys.executable, str(ROOT / "bench" / "loadgen.py"), "-c32", f"-d{seconds}"]
        if scenario.auth == "digest":
            return [*cmd, "--digest", f"{user}:{password}:ivrhooks", server.url]
        if scenario.method == "POST":
            cmd += [
                "--method",
                "POST",
                "--body",
                body,
                "--header",
                "Content-Type: application/json",
            ]
        return [*cmd, *(["--header", f"Authorization: {header}"] if header else []), server.url]
    parts = {"GET": [], "POST": ["post.lua"]}[scenario.method]
    if scenario.auth == "digest":
        parts = ["digest.lua"]
    script = tmp / f"{'-'.join(parts) or 'get'}.lua"
    script.write_text("".join((WRK_DIR / p).read_text() for p in [*parts, "report.lua"]))
    cmd = ["wrk", "-t1", "-c32", f"-d{seconds}s", "--latency", "-s", str(script)]
    if scenario.auth == "digest":
        return [*cmd, server.url, "--", target, user, password, "ivrhooks"]
    if scenario.method == "POST":
        return [*cmd, url, "--", body, header]
    return [*cmd, *(["-H", f"Authorization: {header}"] if header else []), server.url]


def run_load(cmd: list[str]) -> dict[str, float]:
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    line = next(line for line in out.splitlines() if line.startswith("WRKJSON "))
    raw = json.loads(line[len("WRKJSON ") :])
    return {**raw, "rps": raw["requests"] / (raw["duration_us"] / 1e6)}


def result_row(scenario: Scenario, raw: dict[str, float]) -> dict[str, float]:
    """Throughput in answered action-URL requests/s: for Digest, one answer costs two requests."""
    row = dict(raw)
    if scenario.auth == "digest":
        row["rps"] = (raw["requests"] - raw["non2xx"]) / (raw["duration_us"] / 1e6)
        row["bad"] = abs(raw["non2xx"] * 2 - raw["requests"]) > 64  # 401s must be about half
    else:
        row["bad"] = raw["non2xx"] > 0
    row["bad"] = bool(row["bad"] or raw["errors"])
    return row


def fmt(row: dict[str, float]) -> str:
    flag = "  INVALID: non-2xx or socket errors" if row["bad"] else ""
    p50, p99 = row["p50_us"] / 1000, row["p99_us"] / 1000
    return f"{row['rps']:9.0f} req/s  p50 {p50:6.2f} ms  p99 {p99:6.2f} ms{flag}"


def soak(
    app: App, scenario: Scenario, seconds: float, every: float, tmp: Path
) -> dict[str, object]:
    """Run load for ``seconds`` and sample the server's RSS every ``every`` seconds."""
    with serve(app) as server:
        probe(server, scenario)
        loader = subprocess.Popen(
            load_command(server, scenario, seconds, tmp), stdout=subprocess.PIPE, text=True
        )
        samples = [server.status("VmRSS")]
        while loader.poll() is None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                loader.wait(every)  # waits on the loader, not a sleep: returns when it ends
            samples.append(server.status("VmRSS"))
        out, _ = loader.communicate()
        return {"samples_kib": samples, "peak_kib": server.status("VmHWM"), "load": out.strip()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 s runs, 2 rounds, 10 s soak")
    parser.add_argument("--duration", type=int, default=5, help="seconds per run")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--soak", type=int, default=60, help="memory run seconds (0: skip)")
    parser.add_argument("--only", default="", help="comma-separated scenario names to run")
    parser.add_argument("--json", type=Path, help="write every figure here")
    parser.add_argument(
        "--baseline",
        type=Path,
        help="a checkout of another ivrhooks version: its `ivrhooks run` rows run beside this "
        "one's, in the same rounds (before/after a change, in one run)",
    )
    args = parser.parse_args()
    if args.baseline is not None:
        add_baseline(args.baseline.resolve())
    if args.quick:
        args.duration, args.rounds, args.soak = 2, 2, 10
    tool = "wrk" if shutil.which("wrk") else "bench/loadgen.py (wrk not found)"
    print(
        f"load: {tool} -t1 -c32, {args.duration} s x {args.rounds} rounds, "
        f"python {sys.version.split()[0]}"
    )
    scenarios = [s for s in SCENARIOS if not args.only or s.name in args.only.split(",")]
    for s in list(scenarios):
        needs = APPS[s.app].needs
        if needs and not _importable(needs):
            print(f"skipping {s.name!r}: {needs} is not installed (pip install {needs})")
            scenarios.remove(s)
    results: dict[str, list[dict[str, float]]] = {s.name: [] for s in scenarios}
    peaks: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as tmpdir, contextlib.ExitStack() as stack:
        tmp = Path(tmpdir)
        servers = {
            name: stack.enter_context(serve(APPS[name])) for name in {s.app for s in scenarios}
        }
        for s in scenarios:  # correctness first, then a warm-up run
            probe(servers[s.app], s)
            run_load(load_command(servers[s.app], s, 1, tmp))
        for r in range(args.rounds):
            print(f"\nround {r + 1}/{args.rounds}")
            for s in scenarios:
                row = result_row(s, run_load(load_command(servers[s.app], s, args.duration, tmp)))
                results[s.name].append(row)
                print(f"  {s.name:26} {fmt(row)}")
        peaks = {s.name: servers[s.app].status("VmHWM") for s in scenarios}
        startup = {
            name: (server.listening_s, server.ready_s, server.ready_rss_kib)
            for name, server in sorted(servers.items())
        }

    print("\nmedians over rounds (peak RSS of the server process)")
    summary: dict[str, object] = {"rounds": results}
    for s in scenarios:
        rows = results[s.name]
        med = {k: statistics.median(row[k] for row in rows) for k in ("rps", "p50_us", "p99_us")}
        med["bad"] = any(row["bad"] for row in rows)
        print(f"  {s.name:26} {fmt(med)}  peak RSS {peaks[s.name] / 1024:6.1f} MiB")
    print("\nratios (per round; median; target)")
    for label, num, den, target in RATIOS:
        if num not in results or den not in results:
            continue
        per_round = [a["rps"] / b["rps"] for a, b in zip(results[num], results[den], strict=True)]
        median = statistics.median(per_round)
        verdict = (
            ""
            if target is None
            else ("  MET" if median >= target else "  NOT MET") + f" (>= {target})"
        )
        rounds = " ".join(f"{x:.3f}" for x in per_round)
        print(f"  {label:34} {rounds}  median {median:.3f}{verdict}")
        summary[label] = median
    for num, den in P99:
        if num not in results or den not in results:
            continue
        p99 = [statistics.median(r["p99_us"] for r in results[n]) for n in (num, den)]
        print(
            f"  p99 {num} vs {den}: {p99[0] / 1000:.2f} ms vs {p99[1] / 1000:.2f} ms"
            + ("  MET" if p99[0] <= p99[1] else "  NOT MET")
        )
    print("\nstart-up (process start to listening; to /readyz 200) and RSS when ready")
    for name, (listening, ready, rss) in startup.items():
        print(f"  {name:22} {listening:6.2f} s; {ready:6.2f} s; {rss / 1024:6.1f} MiB")
        summary[f"startup {name}"] = {"listening_s": listening, "ready_s": ready, "rss_kib": rss}

    if args.soak > 0:
        with tempfile.TemporaryDirectory() as tmpdir:
            for name, scenario in [
                ("ivr-basic-1000", SCENARIOS[1]),
                ("ivr-digest-1000", SCENARIOS[6]),
            ]:
                every = max(1.0, args.soak / 12)
                mem = soak(APPS[name], scenario, args.soak, every, Path(tmpdir))
                samples = [s / 1024 for s in mem["samples_kib"]]  # type: ignore[attr-defined]
                warm = samples[min(2, len(samples) - 1)]
                print(
                    f"\nmemory over {args.soak:g} s of {scenario.name} (RSS MiB every {every:g} s):"
                )
                print("  " + " ".join(f"{s:.1f}" for s in samples))
                print(
                    f"  after warm-up {warm:.1f} -> end {samples[-1]:.1f} MiB "
                    f"({(samples[-1] - warm) / warm * 100:+.1f}%)"
                )
                summary[f"soak {name}"] = mem
    if args.json:
        args.json.write_text(json.dumps(summary, indent=1))


def add_baseline(checkout: Path) -> None:
    """Rows for ``ivrhooks run`` from ``checkout`` (its package first on the path), measured
    against the same bare baseline and this version's rows in the same rounds."""
    if not (checkout / "ivrhooks" / "__init__.py").exists():
        raise SystemExit(f"--baseline {checkout}: no ivrhooks package there")
    path = (("PYTHONPATH", f"{checkout}:{ROOT}"),)
    for suffix, args in [("", ()), ("-quiet", ("--log-level", "warning"))]:
        APPS[f"run-basic-1000{suffix}-before"] = App(
            "bench/apps/ivr_run.py:app", 1000, "basic", runner="run", run_args=args, env=path
        )
    SCENARIOS.extend(
        [
            Scenario("before: run basic 1k GET", "run-basic-1000-before", auth="basic"),
            Scenario("before: run quiet 1k GET", "run-basic-1000-quiet-before", auth="basic"),
        ]
    )
    RATIOS.extend(
        [
            ("before: run / bare", "before: run basic 1k GET", "bare GET", None),
            ("before: run quiet / bare", "before: run quiet 1k GET", "bare GET", None),
            ("run: now / before", "ivrhooks run basic 1k GET", "before: run basic 1k GET", None),
            ("quiet: now / before", "ivrhooks run quiet 1k GET", "before: run quiet 1k GET", None),
        ]
    )


def _importable(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


if __name__ == "__main__":
    main()
