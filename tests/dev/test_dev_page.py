"""The dev page served without a fake PBX (``ivrhooks dev --pbx``): no phone, and the live list
fed from the app's call journal, over real HTTP on loopback."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from ivrhooks import ActionRequest, IVRHooks, call
from ivrhooks.errors import InvalidArgumentError
from ivrhooks.fakepbx.devui.serving import serve_dev_page
from ivrhooks.testing import bind_socket, running


def _app() -> IVRHooks:
    app = IVRHooks(receptionists=["8999"], env=False)

    @app.dtmf("1")
    async def sales(req: ActionRequest) -> object:
        return call("2001")

    return app


async def _events(stream: httpx.Response) -> AsyncIterator[tuple[str, Any]]:
    event = ""
    async for line in stream.aiter_lines():
        if line.startswith("event: "):
            event = line.removeprefix("event: ")
        elif line.startswith("data: "):
            yield event, json.loads(line.removeprefix("data: "))


async def test_without_a_fake_pbx_the_page_has_no_phone_and_lists_the_journals_calls() -> None:
    # The harness's fake PBX stands in for the real one: it calls the app, and the page knows
    # nothing of it (it is served without it), only what the app's journal records.
    async with running(_app(), environ={"IVRHOOKS_EMBEDDED_PBX": "true"}) as harness:
        assert harness.runtime.journal is not None
        async with (
            serve_dev_page(None, harness.runtime, bind_socket()) as url,
            httpx.AsyncClient(base_url=url, timeout=10) as http,
        ):
            page = await http.get("/")
            assert page.status_code == 200 and '<body data-phone="off">' in page.text
            assert (await http.post("/api/call", json={"to": "8999"})).status_code == 404
            shown = (await http.get("/api/map")).json()
            assert shown["phone"] is False and shown["receptionists"][0]["number"] == "8999"
            async with http.stream("GET", "/api/events") as stream:
                events = _events(stream)
                assert (await anext(events))[0] == "hello"
                await harness.pbx.dial("8999", "5551234", "1")
                async with asyncio.timeout(10):
                    name, hop = await anext(events)
    assert name == "hop"
    assert (hop["receptionist"], hop["input"], hop["matched"]) == ("8999", "1", True)
    assert hop["decision"] == {"action": "call", "destination": "2001"}
    assert hop["outcome"]["route"] == "sales" and hop["outcome"]["answered_by"] == "route"
    # A real caller's number: masked as in the logs, on the page and in what it is sent.
    assert hop["caller"] == "55***34" and hop["outcome"]["caller"] is None
    # What only the PBX measured is not made up.
    assert hop["status"] is None and hop["latency"] is None


async def test_without_a_fake_pbx_or_a_journal_the_page_says_what_it_needs() -> None:
    app = _app()
    server = app.build(app.configure().replace(embedded_pbx=False))  # as with a real PBX
    assert server.runtime.journal is None
    with bind_socket() as sock, pytest.raises(InvalidArgumentError, match="call journal"):
        async with serve_dev_page(None, server.runtime, sock):
            pass
