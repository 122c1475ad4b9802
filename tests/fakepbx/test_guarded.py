"""The embedded fake PBX as served (``ivrhooks.testing.running``: the composition ``ivrhooks run``
serves), attacked over real HTTP on loopback as a web page open in the developer's browser can:
a cross-site POST placing a call, a DNS-rebinding page signing in, CORS, and an action URL aimed
at another address on the machine."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
import pytest

from ivrhooks import ActionRequest, IVRHooks, call
from ivrhooks.fakepbx import DEFAULT_PASSWORD, DEFAULT_USERNAME, DialResult
from ivrhooks.pbx.generations import OAUTH_CLIENT_ID
from ivrhooks.testing import RunningApp, running
from tests.fakepbx.conftest import Receiver

CALL = json.dumps({"to": "8000", "caller": "5550100", "digits": "1"})


@dataclass
class Embedded:
    harness: RunningApp
    handled: list[str] = field(default_factory=list)
    hops: list[DialResult] = field(default_factory=list)

    @property
    def url(self) -> str:
        assert self.harness.pbx.url is not None
        return self.harness.pbx.url

    def login(self) -> dict[str, str]:
        return {"username": self.harness.pbx.username, "password": self.harness.pbx.password}


@pytest.fixture
async def embedded() -> AsyncIterator[Embedded]:
    app = IVRHooks(receptionists=["8000"], env=False)
    handled: list[str] = []

    @app.dtmf("1")
    async def sales(req: ActionRequest) -> object:
        handled.append(req.caller)
        return call("2001")

    async with running(app, environ={"IVRHOOKS_EMBEDDED_PBX": "true"}) as harness:
        state = Embedded(harness, handled)
        stop = harness.pbx.listen(state.hops.append)
        try:
            yield state
        finally:
            stop()


def _state(pbx: Embedded) -> tuple[int, int]:
    return pbx.harness.pbx.tokens.logins, len(pbx.harness.pbx.requests.times)


def _unchanged(pbx: Embedded, before: tuple[int, int]) -> None:
    """Nothing behind the guard saw the request: no handler, no call, no login, no count."""
    assert pbx.handled == [] and pbx.hops == []
    assert _state(pbx) == before
    assert pbx.harness.runtime.journal is not None
    assert pbx.harness.runtime.journal.recent() == []


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"content-type": "text/plain"}, id="text-plain"),
        pytest.param({"content-type": "text/plain;charset=UTF-8"}, id="text-plain-charset"),
        pytest.param({"content-type": "application/x-www-form-urlencoded"}, id="form"),
        pytest.param({"content-type": "multipart/form-data; boundary=x"}, id="multipart"),
        pytest.param({"content-type": "application/jsonp"}, id="json-lookalike"),
        pytest.param({}, id="no-type-with-a-body"),  # fetch(url, {body: new Blob([...])})
    ],
)
async def test_a_cross_site_post_places_no_call(
    embedded: Embedded, headers: dict[str, str]
) -> None:
    before = _state(embedded)
    async with httpx.AsyncClient(base_url=embedded.url) as http:
        # content=: httpx adds no Content-Type of its own.
        answer = await http.post("/_fake/dial", content=CALL, headers=headers)
    assert answer.status_code == 415, answer.text
    assert "application/json" in answer.text
    _unchanged(embedded, before)


async def test_a_call_posted_as_json_is_placed_and_the_oauth_form_login_still_works(
    embedded: Embedded,
) -> None:
    """What the guard lets through: ``ivrhooks call``'s JSON, and PortSIP's v22.0/22.1 token
    endpoint, which takes a form (the one exception)."""
    form = {"grant_type": "password", "client_id": OAUTH_CLIENT_ID, "scope": "all"}
    async with httpx.AsyncClient(base_url=embedded.url) as http:
        placed = await http.post(
            "/_fake/dial", content=CALL, headers={"content-type": "application/json"}
        )
        token = await http.post("/api/login/oauth/token", data={**form, **embedded.login()})
        other_form = await http.post("/api/auth/sign_in", data=embedded.login())
    assert placed.status_code == 200 and placed.json()["decision"]["destination"] == "2001"
    assert embedded.handled == ["5550100"]
    assert token.status_code == 200 and token.json()["access_token"]
    assert other_form.status_code == 415


PATHS = [
    pytest.param("GET", "/api/ivrs", None, id="rest-read"),
    pytest.param("POST", "/api/auth/sign_in", "login", id="sign-in"),
    pytest.param("POST", "/_fake/dial", CALL, id="dial"),
    pytest.param("GET", "/_fake/stats", None, id="stats"),
]


REFUSED = ["evil.example", "evil.example:8887", "127.0.0.1.evil.example", "localhost.evil:80", ""]
ANSWERED = ["127.0.0.1", "127.0.0.1:{port}", "localhost", "LOCALHOST:8887", "[::1]:{port}"]


@pytest.mark.parametrize(("method", "path", "body"), PATHS)
async def test_only_a_loopback_host_is_answered(
    embedded: Embedded, method: str, path: str, body: str | None
) -> None:
    """A DNS-rebinding page reaches 127.0.0.1 under its own name (``Host: evil.example``)."""
    content = json.dumps(embedded.login()) if body == "login" else body
    port = httpx.URL(embedded.url).port
    async with httpx.AsyncClient(base_url=embedded.url) as http:

        async def send(host: str) -> httpx.Response:
            headers = {"host": host.format(port=port), "content-type": "application/json"}
            return await http.request(method, path, content=content, headers=headers)

        for host in REFUSED:
            before = _state(embedded)
            answer = await send(host)
            assert answer.status_code == 403, (host, answer.text)
            _unchanged(embedded, before)
        answered = {host: (await send(host)).status_code for host in ANSWERED}
    # /api/ivrs without a token: 401 from the PBX itself, past the guard.
    assert answered == {host: 401 if path == "/api/ivrs" else 200 for host in ANSWERED}


async def test_no_answer_grants_cross_origin_access(embedded: Embedded) -> None:
    origin = {"origin": "https://evil.example"}
    preflight = {
        **origin,
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type",
    }
    async with httpx.AsyncClient(base_url=embedded.url) as http:
        answers = {
            "preflight-dial": await http.options("/_fake/dial", headers=preflight),
            "preflight-sign-in": await http.options("/api/auth/sign_in", headers=preflight),
            "options": await http.options("/api/ivrs", headers=origin),
            "stats": await http.get("/_fake/stats", headers=origin),
            "sign-in": await http.post("/api/auth/sign_in", json=embedded.login(), headers=origin),
            "refused": await http.post("/_fake/dial", content=CALL, headers=origin),
        }
    granted = {
        name: [h for h in answer.headers if h.lower().startswith("access-control-")]
        for name, answer in answers.items()
    }
    assert granted == {name: [] for name in answers}
    assert answers["preflight-dial"].status_code == 403
    assert answers["preflight-sign-in"].status_code == 403
    assert all(a.headers["x-content-type-options"] == "nosniff" for a in answers.values())
    assert embedded.handled == []


async def test_the_embedded_pbx_has_a_login_of_its_own(embedded: Embedded) -> None:
    password = embedded.harness.pbx.password
    assert password != DEFAULT_PASSWORD and len(password) >= 16
    async with httpx.AsyncClient(base_url=embedded.url) as http:
        fixed = {"username": DEFAULT_USERNAME, "password": DEFAULT_PASSWORD}
        old = await http.post("/api/auth/sign_in", json=fixed)
        own = await http.post("/api/auth/sign_in", json=embedded.login())
    assert old.status_code == 401 and own.status_code == 200
    app = IVRHooks(receptionists=["8000"], env=False)
    async with running(app, environ={"IVRHOOKS_EMBEDDED_PBX": "true"}) as other:
        assert other.pbx.password not in (password, DEFAULT_PASSWORD)


async def test_an_action_url_aimed_outside_the_app_is_never_sent(
    embedded: Embedded, receiver: Receiver
) -> None:
    """Creating it answers as PortSIP does; calling it sends nothing, and says why."""
    pbx = embedded.harness.pbx
    ivr_id = pbx.ivr("8000").id
    async with httpx.AsyncClient(base_url=embedded.url + "/api/") as http:
        token = (await http.post("auth/sign_in", json=embedded.login())).json()["access_token"]
        created = await http.post(
            f"ivrs/{ivr_id}/action_urls",
            json={
                "name": "elsewhere",
                "enabled": True,
                "type": "DTMF",
                "dtmf_mask": "5",
                "method": "POST",
                "url": receiver.url + "/hook/open",  # another server on this machine
            },
            headers={"authorization": f"Bearer {token}"},
        )
    assert created.status_code == 201, created.text
    async with httpx.AsyncClient(base_url=embedded.url) as http:
        call_5 = {"to": "8000", "caller": "101", "digits": "5"}
        dialled = await http.post("/_fake/dial", json=call_5)
    direct = await pbx.dial("8000", "101", "5")
    [hop] = dialled.json()["hops"]
    assert (hop["matched"], hop["status"]) == (True, None)
    assert hop["error"].startswith("not sent: http://127.0.0.1:")
    assert f"outside where this fake PBX sends calls ({embedded.harness.url})" in hop["error"]
    assert direct.error == hop["error"]
    assert receiver.hits == []
    # The app's own action URL is called as before.
    own = await pbx.dial("8000", "101", "1")
    assert (own.status, own.destination) == (200, "2001")
