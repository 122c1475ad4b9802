"""``ServingConfig.max_body`` is the one cap on a request body: a body the configuration allows
reaches the handler (the request parser used to cap it again at its own 8 KiB), and a larger one
is answered 400 without reaching it. Over real HTTP on loopback, registered on a fake PBX, with
the route's own credentials."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest

from ivrhooks import ActionRequest, IVRHooks, ServingConfig, call
from ivrhooks.testing import RunningApp, running

CAP = 16 * 1024


def _app(seen: list[ActionRequest]) -> IVRHooks:
    app = IVRHooks(["8000"], env=False, serving=ServingConfig(max_body=CAP))

    @app.dtmf("1")
    async def menu(req: ActionRequest) -> object:
        seen.append(req)
        return call("2001")

    return app


def _body(size: int) -> bytes:
    """A JSON call of exactly ``size`` bytes (a long caller name pads it)."""
    fields = {"from": "101", "to": "8000", "input": "1", "session_id": "s1", "from_name": ""}
    pad = size - len(json.dumps(fields).encode())
    body = json.dumps({**fields, "from_name": "x" * pad}).encode()
    assert len(body) == size
    return body


async def _post(ran: RunningApp, body: bytes, *, chunked: bool = False) -> httpx.Response:
    entry = ran.runtime.manifest.get("menu")
    assert entry is not None and entry.credentials is not None
    auth = (entry.credentials.username, entry.credentials.password)

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: the cap applies as it streams
        for start in range(0, len(body), 4096):
            yield body[start : start + 4096]

    async with httpx.AsyncClient(trust_env=False) as client:
        return await client.post(
            ran.url + "/hooks/menu",
            content=chunks() if chunked else body,
            headers={"content-type": "application/json"},
            auth=auth,
        )


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
async def test_a_12_kib_post_reaches_the_handler_when_max_body_allows_it(chunked: bool) -> None:
    seen: list[ActionRequest] = []
    body = _body(12 * 1024)
    async with running(_app(seen)) as ran:
        assert ran.runtime.config.serving.max_body == CAP
        answer = await _post(ran, body, chunked=chunked)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"status_code": 200, "action": "call", "destination": "2001"}
    assert [req.caller_name for req in seen] == [json.loads(body)["from_name"]]


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
async def test_a_body_over_max_body_is_400_and_never_reaches_the_handler(chunked: bool) -> None:
    seen: list[ActionRequest] = []
    async with running(_app(seen)) as ran:
        at_the_cap = await _post(ran, _body(CAP), chunked=chunked)
        over = await _post(ran, _body(CAP + 1), chunked=chunked)
    assert at_the_cap.status_code == 200, "the cap itself is allowed"
    assert over.status_code == 400
    assert over.json() == {"error": f"the body is larger than {CAP} bytes"}
    assert len(seen) == 1, "only the body within the cap reached the handler"
