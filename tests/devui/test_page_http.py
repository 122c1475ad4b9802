"""The dev page over real HTTP on loopback: what it serves, to whom, and the live feed."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from ivrhooks import ActionRequest, IVRHooks, call, repeat
from ivrhooks.errors import InvalidArgumentError
from ivrhooks.fakepbx.devui.app import STATIC
from ivrhooks.fakepbx.devui.serving import serve_dev_page
from ivrhooks.testing import RunningApp, bind_socket, running

BROKEN_LINE = next(
    n
    for n, text in enumerate(Path(__file__).read_text().splitlines(), 1)
    if text.strip() == "return 1 / 0"
)


def _app() -> IVRHooks:
    app = IVRHooks(receptionists=["8000"], env=False)

    @app.dtmf("1")
    async def sales(req: ActionRequest) -> object:
        return call("2001")

    @app.dtmf("3000-3999")
    async def account(req: ActionRequest) -> object:
        return call("2" + req.digits[1:])

    @app.dtmf("7")
    async def broken(req: ActionRequest) -> object:
        return 1 / 0

    @app.fallback
    def operator(req: ActionRequest) -> object:
        return repeat()

    return app


@dataclass
class Page:
    harness: RunningApp
    url: str


@pytest.fixture
async def page() -> AsyncIterator[Page]:
    # As `ivrhooks run` has it: an embedded PBX, with the journal that says what was decided.
    async with running(_app(), environ={"IVRHOOKS_EMBEDDED_PBX": "true"}) as harness:
        assert harness.runtime.journal is not None
        sock = bind_socket()
        async with serve_dev_page(harness.pbx, harness.runtime, sock) as url:
            yield Page(harness, url)


async def test_the_page_and_its_files_are_served_with_a_strict_policy(page: Page) -> None:
    async with httpx.AsyncClient(base_url=page.url) as http:
        index = await http.get("/")
        script = await http.get("/static/main.js")
        missing = await http.get("/static/nothing.js")
    assert index.status_code == 200 and index.headers["content-type"].startswith("text/html")
    assert "frame-ancestors 'none'" in index.headers["content-security-policy"]
    assert "default-src 'self'" in index.headers["content-security-policy"]
    assert index.headers["x-content-type-options"] == "nosniff"
    # Module scripts run only with a JavaScript MIME type.
    assert "javascript" in script.headers["content-type"]
    assert missing.status_code == 404
    # Every file the page names is shipped beside it (no CDN).
    for name in ("devui.css", "main.js"):
        assert f"/static/{name}" in index.text
    assert {p.name for p in STATIC.iterdir()} >= {"index.html", "main.js", "map.js", "phone.js"}


@pytest.mark.parametrize(
    ("host", "status"),
    [
        pytest.param("127.0.0.1", 200, id="loopback"),
        pytest.param("localhost:9999", 200, id="localhost-forwarded-port"),
        pytest.param("[::1]:8888", 200, id="ipv6-loopback"),
        pytest.param("evil.example", 403, id="dns-rebinding"),
        pytest.param("127.0.0.1.evil.example:8888", 403, id="lookalike"),
        pytest.param("", 403, id="no-host"),
    ],
)
async def test_only_a_loopback_host_is_answered(page: Page, host: str, status: int) -> None:
    async with httpx.AsyncClient(base_url=page.url) as http:
        answer = await http.get("/api/map", headers={"host": host})
    assert answer.status_code == status


@pytest.mark.parametrize(
    ("content_type", "status"),
    [
        pytest.param("application/json", 200, id="json"),
        pytest.param("text/plain", 415, id="cross-site-simple-request"),
        pytest.param("application/x-www-form-urlencoded", 415, id="cross-site-form"),
    ],
)
async def test_a_call_must_be_posted_as_json(page: Page, content_type: str, status: int) -> None:
    body = json.dumps({"to": "8000", "caller": "101", "digits": "1"})
    async with httpx.AsyncClient(base_url=page.url) as http:
        answer = await http.post("/api/call", content=body, headers={"content-type": content_type})
    assert answer.status_code == status
    if status == 200:
        [hop] = answer.json()["hops"]
        assert hop["decision"]["destination"] == "2001"
        assert hop["outcome"]["route"] == "sales"


async def test_a_cross_origin_preflight_is_refused_and_nothing_grants_cors(page: Page) -> None:
    """The page shares the fake PBX's guard (ivrhooks/fakepbx/guard.py): no CORS, ever."""
    preflight = {
        "origin": "https://evil.example",
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type",
    }
    async with httpx.AsyncClient(base_url=page.url) as http:
        refused = await http.options("/api/call", headers=preflight)
        shown = await http.get("/api/map", headers={"origin": "https://evil.example"})
    assert refused.status_code == 403
    assert shown.status_code == 200
    assert not [h for a in (refused, shown) for h in a.headers if h.startswith("access-control-")]
    assert "frame-ancestors 'none'" in refused.headers["content-security-policy"]


async def _events(response: httpx.Response) -> AsyncIterator[tuple[str, dict[str, Any]]]:
    event = ""
    async for line in response.aiter_lines():
        if line.startswith("event: "):
            event = line.removeprefix("event: ")
        elif line.startswith("data: "):
            yield event, json.loads(line.removeprefix("data: "))


async def test_every_hop_the_pbx_places_reaches_an_open_page_and_the_map(page: Page) -> None:
    pbx = page.harness.pbx
    async with (
        httpx.AsyncClient(base_url=page.url, timeout=10) as http,
        http.stream("GET", "/api/events") as stream,
    ):
        assert stream.headers["content-type"].startswith("text/event-stream")
        events = _events(stream)
        assert (await anext(events))[0] == "hello"
        # Placed as `ivrhooks call` and the dev prompt place them: not through the page.
        await pbx.dial("8000", "101", "3123")
        await pbx.dial("8000", "101", "7")
        await pbx.dial("8000", "101", "5")
        async with asyncio.timeout(10):
            got = [await anext(events) for _ in range(3)]
        shown = await http.get("/api/map")
    account, broken, nothing = (data for _, data in got)
    assert [name for name, _ in got] == ["hop", "hop", "hop"]
    assert (account["caller"], account["receptionist"], account["input"]) == ("101", "8000", "3123")
    assert account["decision"]["destination"] == "2123" and account["latency"] > 0
    assert broken["outcome"]["answered_by"] == "fallback"
    assert broken["outcome"]["cause"] == "error"
    assert "ZeroDivisionError" in broken["outcome"]["error"]
    assert broken["outcome"]["where"].endswith(f"test_page_http.py:{BROKEN_LINE}")
    assert nothing["matched"] is False
    [lane] = shown.json()["receptionists"]
    routes = {r["name"]: r for r in lane["routes"]}
    assert {"kind": "number", "number": "2123", "sources": ["seen"]} in routes["account"]["targets"]


async def test_every_event_the_pbx_posts_reaches_an_open_page(page: Page) -> None:
    """The live list shows each CDR and extension event the embedded PBX posts for a call,
    under the call, with the number it is about and how the event URL answered."""
    pbx = page.harness.pbx
    # The embedded PBX posts only to the app; a path the app does not serve: 404, no retry.
    pbx.set_event_url("cdr", page.harness.url + "/no-such-endpoint")
    async with (
        httpx.AsyncClient(base_url=page.url, timeout=10) as http,
        http.stream("GET", "/api/events") as stream,
    ):
        events = _events(stream)
        assert (await anext(events))[0] == "hello"
        hop = await pbx.dial("8000", "101", "3123")
        async with asyncio.timeout(10):
            got = [await anext(events) for _ in range(8)]
    assert [name for name, _ in got] == ["hop"] + ["pbx-event"] * 7
    posted = [data for _, data in got[1:]]
    assert [e["type"] for e in posted] == [
        "call_start",
        "call_update_info",
        "cdr_target_add",
        "cdr_target_ringing",
        "cdr_target_answer",
        "cdr_target_end",
        "call_cdr",
    ]
    assert {e["session_id"] for e in posted} == {hop.fields["session_id"]}
    assert {e["target"] for e in posted[2:6]} == {"2123"}
    assert {(e["status"], e["attempt"], e["kind"]) for e in posted} == {(404, 1, "cdr")}


async def test_leaving_ends_open_event_streams_so_the_server_can_stop() -> None:
    async with running(_app(), environ={"IVRHOOKS_EMBEDDED_PBX": "true"}) as harness:
        served = serve_dev_page(harness.pbx, harness.runtime, bind_socket())
        url = await served.__aenter__()
        async with (
            httpx.AsyncClient(base_url=url, timeout=10) as http,
            http.stream("GET", "/api/events") as stream,
        ):
            lines = stream.aiter_lines()
            assert await anext(lines) == "retry: 500"
            async with asyncio.timeout(10):
                await served.__aexit__(None, None, None)  # with a page still listening
                rest = [line async for line in lines]
    assert "event: hello" in rest


def test_the_page_is_served_on_loopback_only() -> None:
    unbound = socket.socket()  # getsockname(): 0.0.0.0, every interface
    try:
        with pytest.raises(InvalidArgumentError, match="loopback only"):
            asyncio.run(_enter(unbound))
    finally:
        unbound.close()


async def _enter(sock: socket.socket) -> None:
    async with (
        running(_app()) as harness,
        serve_dev_page(harness.pbx, harness.runtime, sock),
    ):
        pass
