"""``ivrhooks run`` as a user runs it: a real process with the embedded fake PBX."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from ivrhooks.errors import PBXLoginError
from ivrhooks.fakepbx import DEFAULT_PASSWORD
from ivrhooks.fakepbx.dial import fire, request_fields
from ivrhooks.pbx import PBXClient
from ivrhooks.testing import bind_socket, serve
from tests.ports import spare_port

ROOT = Path(__file__).resolve().parents[2]

APP = """
from ivrhooks import IVRHooks, call

app = IVRHooks(receptionists=["8000"], auth="digest")

@app.dtmf("1")
async def sales(req):
    return call("2001")
"""


async def wait_ready(url: str, proc: asyncio.subprocess.Process, limit: float = 30.0) -> None:
    # A bounded poll: only for a server starting in another process.
    deadline = time.monotonic() + limit
    async with httpx.AsyncClient() as http:
        while time.monotonic() < deadline:
            assert proc.returncode is None, "ivrhooks run exited early"
            try:
                if (await http.get(url)).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError(f"{url} not ready within {limit}s")


@dataclass
class Run:
    """An ``ivrhooks run`` process with the embedded PBX, as its first lines describe it."""

    proc: asyncio.subprocess.Process
    lines: list[str]
    url: str  # the app
    pbx_api: str  # the embedded PBX's REST API
    username: str
    password: str


@contextlib.asynccontextmanager
async def run_embedded(path: Path, cwd: Path = ROOT) -> AsyncIterator[Run]:
    """``ivrhooks run PATH --port 0 --pbx-port 0 --ui-port 0``, ready; reads what it printed:
    ``serving on URL``, ``embedded fake PBX: URL (login USER / PASSWORD)``, the call hint."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("IVRHOOKS_")}
    cmd = [sys.executable, "-m", "ivrhooks", "run", str(path), "--port", "0", "--pbx-port", "0"]
    cmd += ["--ui-port", "0", "--log-level", "warning"]
    proc = await asyncio.create_subprocess_exec(
        *cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    assert proc.stdout is not None
    lines: list[str] = []
    try:
        async with asyncio.timeout(30):
            while not lines or not lines[-1].startswith("place a call:"):
                line = (await proc.stdout.readline()).decode()
                assert line, "ivrhooks run ended early:\n" + "".join(lines)
                lines.append(line)
        served = re.search(r"^serving on (\S+)$", "".join(lines), re.MULTILINE)
        login = re.search(
            r"^embedded fake PBX: (\S+) \(login (\S+) / (\S+)\)$", "".join(lines), re.MULTILINE
        )
        assert served is not None and login is not None, lines
        run = Run(proc, lines, served[1], login[1], login[2], login[3])
        await wait_ready(run.url + "/readyz", proc)
        yield run
    finally:
        if proc.returncode is None:
            proc.terminate()
        rest, _ = await asyncio.wait_for(proc.communicate(), 15)
        lines.append(rest.decode())


async def test_run_with_the_embedded_pbx_registers_and_answers(tmp_path: Path) -> None:
    (tmp_path / "runapp.py").write_text(APP)
    async with run_embedded(tmp_path / "runapp.py") as run:
        async with PBXClient(run.pbx_api, username=run.username, password=run.password) as pbx:
            ids = {i.extension_number: i.id async for i in pbx.ivrs.list()}
            urls = await pbx.action_urls.list(ids["8000"])
        assert [str(u.name).partition("@")[0] for u in urls] == ["ivrhooks:sales"]
        assert urls[0].url == f"{run.url}/hooks/sales"
        # Fire it as the PBX would (digest auth with the registered credentials).
        fields = request_fields(
            caller="101", to="8000", digits="1", caller_name="", account_name="", session_id="1"
        )
        result = await fire(urls[0], fields)
        assert (result.status, result.action, result.destination) == (200, "call", "2001")
        # The server run starts refuses an oversized head before the app (server/protocol.py).
        port = httpx.URL(run.url).port
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /hooks/sales HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 9000 + b"\r\n\r\n")
        answer = await asyncio.wait_for(reader.read(), 10)
        writer.close()
        assert answer.startswith(b"HTTP/1.1 431 "), answer[:60]
    output = "".join(run.lines)
    pbx_base = run.pbx_api.removesuffix("/api")
    assert f"ivrhooks call --to 8000 --caller 101 --digits 1 --pbx {pbx_base}\n" in output


def ivrhooks_call(run: Run, *args: str) -> subprocess.CompletedProcess[str]:
    """``ivrhooks call ... --pbx URL`` at the run's embedded PBX, from another process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("IVRHOOKS_")}
    return subprocess.run(
        [sys.executable, "-m", "ivrhooks", "call", *args, "--pbx", run.pbx_api],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def curl(*args: str) -> tuple[int, str]:
    """curl as the client: the status and the response's head."""
    done = subprocess.run(
        ["curl", "-sS", "-o", "/dev/null", "-D", "-", "-w", "%{http_code}", *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    head, _, status = done.stdout.rpartition("\n")
    return int(status), head.lower()


DIAL, SIGN_IN = "/_fake/dial", "/auth/sign_in"
JSON = "content-type: application/json"
LOGIN = json.dumps({"username": "admin", "password": "fakepbx"})
PREFLIGHT = [
    "-H",
    "origin: https://evil.example",
    "-H",
    "access-control-request-method: POST",
    "-H",
    "access-control-request-headers: content-type",
]


GUARDED_APP = """
from pathlib import Path
from ivrhooks import IVRHooks, call

app = IVRHooks(receptionists=["8000"])

@app.dtmf("1")
def sales(req):
    with Path(__file__).with_name("handled.txt").open("a") as handled:
        handled.write(req.caller + "\\n")
    return call("2001")
"""


async def test_the_embedded_pbx_answers_its_printed_login_loopback_json_and_calls_only_the_app(
    tmp_path: Path,
) -> None:
    """Issue 23: a page open in the developer's browser must not reach the embedded PBX
    (cross-site POST, DNS rebinding with the old fixed login) nor make it call elsewhere."""
    (tmp_path / "guarded.py").write_text(GUARDED_APP)
    handled = tmp_path / "handled.txt"
    hits: list[str] = []

    async def record(request: Request) -> JSONResponse:
        hits.append(request.url.path)
        return JSONResponse({"action": "call", "destination": "666"})

    recorder = Starlette(routes=[Route("/{path:path}", record, methods=["GET", "POST"])])
    async with serve(recorder) as elsewhere, run_embedded(tmp_path / "guarded.py") as run:
        assert (run.username, len(run.password)) == ("admin", 22)
        assert run.password != DEFAULT_PASSWORD
        with pytest.raises(PBXLoginError):
            async with PBXClient(run.pbx_api, username="admin", password="fakepbx") as pbx:
                await pbx.ivrs.get("0")
        base = run.pbx_api.removesuffix("/api")
        body = json.dumps({"to": "8000", "caller": "101", "digits": "1"})
        evil = ["-H", "host: evil.example"]  # a DNS-rebinding page names its own host
        attempts = [
            ["-H", "content-type: text/plain", "-d", body, base + DIAL],  # cross-site form/fetch
            [*evil, "-H", JSON, "-d", body, base + DIAL],
            [*evil, run.pbx_api + "/ivrs"],
            ["-H", "host: evil.example:80", "-H", JSON, "-d", LOGIN, run.pbx_api + SIGN_IN],
            ["-X", "OPTIONS", *PREFLIGHT, base + DIAL],  # a CORS preflight
        ]
        answers = await asyncio.gather(*(asyncio.to_thread(curl, *a) for a in attempts))
        assert [status for status, _ in answers] == [415, 403, 403, 403, 403]
        assert not any("access-control-" in head for _, head in answers)
        assert not handled.exists(), "no refused request reached the handler"

        async with PBXClient(run.pbx_api, username=run.username, password=run.password) as pbx:
            [ivr_id] = [i.id async for i in pbx.ivrs.list()]
            await pbx.action_urls.create(
                ivr_id,
                name="elsewhere",
                enabled=True,
                type="DTMF",
                dtmf_mask="5",
                method="POST",
                url=elsewhere + "/steal",
            )
        refused, own = await asyncio.gather(
            asyncio.to_thread(ivrhooks_call, run, "--to", "8000", "--digits", "5"),
            asyncio.to_thread(ivrhooks_call, run, "--to", "8000", "--digits", "1"),
        )
    assert refused.returncode == 1
    assert refused.stdout.startswith(f"elsewhere: no decision (not sent: {elsewhere} is outside")
    assert hits == []
    assert own.stdout.startswith("decision: call 2001  (handler: sales, ")
    assert handled.read_text() == "101\n"


async def test_port_zero_serves_on_a_free_port_and_says_which(tmp_path: Path) -> None:
    (tmp_path / "runapp.py").write_text(APP)
    env = {k: v for k, v in os.environ.items() if not k.startswith("IVRHOOKS_")}
    cmd = [sys.executable, "-m", "ivrhooks", "run", str(tmp_path / "runapp.py"), "--port", "0"]
    cmd += ["--pbx-port", str(spare_port()), "--ui-port", "0", "--log-level", "warning"]
    proc = await asyncio.create_subprocess_exec(
        *cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        assert proc.stdout is not None
        first = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
        assert first.startswith("serving on http://127.0.0.1:"), first
        url = first.split()[-1]
        assert not url.endswith(":0")
        await wait_ready(url + "/readyz", proc)
    finally:
        proc.terminate()
        await asyncio.wait_for(proc.communicate(), 15)


def test_a_port_already_taken_is_one_line_before_any_hint(tmp_path: Path) -> None:
    (tmp_path / "runapp.py").write_text(APP)
    env = {k: v for k, v in os.environ.items() if not k.startswith("IVRHOOKS_")}
    taken = bind_socket()
    try:
        port = taken.getsockname()[1]
        cmd = [sys.executable, "-m", "ivrhooks", "run", str(tmp_path / "runapp.py")]
        done = subprocess.run(
            [*cmd, "--port", str(port), "--pbx-port", str(spare_port())],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        taken.close()
    assert done.returncode == 1
    assert done.stdout == "", "nothing, not even 'serving on', before the error"
    assert done.stderr.strip() == (
        f"Error: --host/--port: cannot serve the app on 127.0.0.1:{port} (Address already in use)"
    )


def test_module_attr_resolves_from_the_current_directory(tmp_path: Path) -> None:
    (tmp_path / "menu_here.py").write_text(APP)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IVRHOOKS_", "PYTHONPATH"))}
    # The console script, not `python -m` (which puts the current directory on sys.path itself).
    script = Path(sys.executable).parent / "ivrhooks"
    done = subprocess.run(
        [str(script), "routes", "menu_here:app"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "/hooks/sales" in done.stdout


TRUTH_APP = """
import asyncio
from ivrhooks import IVRHooks, call

app = IVRHooks(receptionists=["8000"])

@app.dtmf("1")
async def sales(req):
    return call("2001")

@app.dtmf("2")
async def broken(req):
    return 1 / 0  # the user's own line

@app.dtmf("3")
async def odd(req):
    return {"action": "call"}

@app.dtmf("4")
async def slow(req):
    await asyncio.sleep(30)

@app.fallback
def operator(req):
    return call("0")
"""


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


async def test_call_tells_a_fallback_from_an_answer_with_the_users_line(tmp_path: Path) -> None:
    path = tmp_path / "truth.py"
    path.write_text(TRUTH_APP)
    port, pbx_port = spare_port(), spare_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("IVRHOOKS_")}
    cmd = [sys.executable, "-m", "ivrhooks", "run", str(path), "--port", str(port)]
    cmd += ["--pbx-port", str(pbx_port), "--ui-port", "0", "--log-level", "warning"]
    proc = await asyncio.create_subprocess_exec(
        *cmd, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )

    def call(*args: str) -> subprocess.CompletedProcess[str]:
        pbx = ["--pbx", f"http://127.0.0.1:{pbx_port}"]
        return subprocess.run(
            [sys.executable, "-m", "ivrhooks", "call", "--to", "8000", *args, *pbx],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    try:
        await wait_ready(f"http://127.0.0.1:{port}/readyz", proc)
        answers = await asyncio.gather(
            *(asyncio.to_thread(call, "--digits", d) for d in ("1", "2", "3", "4", "7"))
        )
    finally:
        proc.terminate()
        await asyncio.wait_for(proc.wait(), 15)
    sales, broken, odd, slow, nothing = answers
    assert sales.stdout.startswith("decision: call 2001  (handler: sales,"), sales.stdout
    assert broken.stdout.startswith("fallback: call 0  (route: broken, cause: error,")
    assert "ZeroDivisionError: division by zero" in broken.stdout
    assert f"at truth.py:{_line_of(TRUTH_APP, '1 / 0')}" in broken.stdout
    assert "answered by the fallback" in broken.stdout
    assert odd.stdout.startswith("fallback: call 0  (route: odd, cause: invalid,")
    assert f"at truth.py:{_line_of(TRUTH_APP, 'def odd')}" in odd.stdout
    assert slow.stdout.startswith("fallback: call 0  (route: slow, cause: timeout,")
    assert all(a.returncode == 0 for a in (sales, broken, odd, slow, nothing))
    assert nothing.stdout.startswith("no route matches caller '101' / digits '7'")
    gone = call("--digits", "1")
    assert gone.returncode == 1 and gone.stderr.startswith("Error: no fake PBX answers at")


MISFIT_APP = """
from ivrhooks import IVRHooks, call

app = IVRHooks(receptionists=["8000", "8001"])

@app.dtmf("1", receptionists=["8000"])
async def sales(req):
    return call("2001")

@app.fallback
def operator(req):
    return call("0")
"""


async def test_call_shows_a_request_the_route_does_not_serve_as_a_fallback_and_why(
    tmp_path: Path,
) -> None:
    """Entries made by hand on the PBX that call the app's route for what the route does not
    take: another receptionist (cause ``receptionist``), other digits (cause ``no_match``)."""
    path = tmp_path / "misfit.py"
    path.write_text(MISFIT_APP)
    async with run_embedded(path, cwd=tmp_path) as run:
        async with PBXClient(run.pbx_api, username=run.username, password=run.password) as pbx:
            ids = {i.extension_number: i.id async for i in pbx.ivrs.list()}
            (sales,) = await pbx.action_urls.list(ids["8000"])
            copied = {
                "enabled": True,
                "type": "DTMF",
                "method": sales.method,
                "url": sales.url,
                "auth": sales.auth,
                "username": sales.username,
                "password": sales.password,
            }
            # Someone copied the entry to a receptionist the route does not serve, and gave
            # the route a key its mask does not take.
            await pbx.action_urls.create(ids["8001"], name="copied", dtmf_mask="1", **copied)
            await pbx.action_urls.create(ids["8000"], name="widened", dtmf_mask="5", **copied)
        other, wider = await asyncio.gather(
            asyncio.to_thread(ivrhooks_call, run, "--to", "8001", "--digits", "1"),
            asyncio.to_thread(ivrhooks_call, run, "--to", "8000", "--digits", "5"),
        )
    assert (other.returncode, wider.returncode) == (0, 0), other.stderr + wider.stderr
    # The app's route (not the hand-made entry's name), marked a fallback, with what did not fit.
    assert other.stdout.startswith(
        "fallback: call 0  (route: sales, cause: receptionist, the route does not serve "
        "receptionist 8001; answered by the fallback; HTTP 200, "
    ), other.stdout
    assert wider.stdout.startswith(
        "fallback: call 0  (route: sales, cause: no_match, digits '5' are outside the route's "
        "mask; answered by the fallback; HTTP 200, "
    ), wider.stdout
