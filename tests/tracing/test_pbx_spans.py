"""PBX REST calls and registration runs as spans and observer events: named by path template,
with status and retries, and never an id, a token or a login."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator

import httpx
import pytest
from opentelemetry.trace import SpanKind, StatusCode

from ivrhooks import IVRHooks
from ivrhooks.errors import PBXAPIError, PBXConnectionError
from ivrhooks.observe.observer import Observer, PBXCall
from ivrhooks.observe.otel import tracing_for
from ivrhooks.pbx import PBXClient, RetryPolicy
from ivrhooks.registration import Registration
from ivrhooks.testing import FakePBX, serve
from tests.registration.helpers import SECRET, add_menu, new_app, served_app
from tests.tracing.conftest import Spans

IVR_ID = "ivr-0f3a9c77"
TOKEN = "static-token-0123456789abcdef"


class Recorder(Observer):
    def __init__(self) -> None:
        self.calls: list[PBXCall] = []
        self.logins: list[tuple[str, bool]] = []

    def pbx_request(self, call: PBXCall) -> None:
        self.calls.append(call)

    def pbx_login(self, kind: str, ok: bool) -> None:
        self.logins.append((kind, ok))


Reply = Callable[[httpx.Request], httpx.Response]


@pytest.fixture
def fake() -> FakePBX:
    pbx = FakePBX()
    pbx.add_ivr("8000", "Main")
    return pbx


@pytest.fixture
async def pbx_base(fake: FakePBX) -> AsyncIterator[str]:
    async with serve(fake.app) as base:
        yield base


@pytest.fixture
def replies() -> Iterator[list[Reply]]:
    queue: list[Reply] = []
    yield queue
    assert queue == [], "every scripted reply was used"


def _client(spans: Spans, recorder: Recorder, replies: list[Reply]) -> PBXClient:
    def handle(request: httpx.Request) -> httpx.Response:
        return replies.pop(0)(request)

    return PBXClient(
        "https://pbx.example.com:8887/api",
        token=TOKEN,
        transport=httpx.MockTransport(handle),
        rate=None,
        retry=RetryPolicy(base=0.001, cap=0.002),
        observer=recorder,
        tracing=tracing_for(spans.provider),
    )


def _status(code: int, headers: dict[str, str] | None = None) -> Reply:
    return lambda request: httpx.Response(code, json={"items": []}, headers=headers)


def _unreachable(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("refused", request=request)


@pytest.mark.parametrize(
    ("script", "status", "retries", "limited", "error"),
    [
        ([_status(200)], 200, 0, 0, None),
        ([_status(503), _status(200)], 200, 1, 0, None),
        ([_status(429, {"Retry-After": "0"}), _status(200)], 200, 1, 1, None),
        ([_status(404)], 404, 0, 0, "404"),
        ([_unreachable] * 4, None, 3, 0, "ivrhooks.errors.PBXConnectionError"),
    ],
    ids=["ok", "503-then-ok", "429-then-ok", "not-found", "unreachable"],
)
async def test_a_call_is_one_client_span_and_one_observed_call(
    spans: Spans,
    replies: list[Reply],
    script: list[Reply],
    status: int | None,
    retries: int,
    limited: int,
    error: str | None,
) -> None:
    replies.extend(script)
    recorder = Recorder()
    async with _client(spans, recorder, replies) as client:
        if error is None:
            await client.action_urls.list(IVR_ID)
        else:
            with pytest.raises(PBXAPIError if status else PBXConnectionError):
                await client.action_urls.list(IVR_ID)
    [call] = recorder.calls
    assert (call.method, call.endpoint, call.status) == ("GET", "ivrs/{id}/action_urls", status)
    assert (call.retries, call.rate_limited) == (retries, limited)
    span = spans.named("GET /api/ivrs/{id}/action_urls")
    assert span.kind is SpanKind.CLIENT
    attributes = dict(span.attributes or {})
    assert attributes["http.request.method"] == "GET"
    assert attributes["url.template"] == "/api/ivrs/{id}/action_urls"
    assert attributes["server.address"] == "pbx.example.com"
    assert attributes["server.port"] == 8887
    assert attributes.get("http.response.status_code") == status
    assert attributes.get("http.request.resend_count", 0) == retries
    assert attributes.get("ivrhooks.pbx.rate_limited", 0) == limited
    assert len([e for e in span.events if e.name == "retry"]) == retries
    if error is None:
        assert span.status.status_code is StatusCode.UNSET
    else:
        assert span.status.status_code is StatusCode.ERROR
        assert attributes["error.type"] == error
    assert IVR_ID not in spans.text() and TOKEN not in spans.text()
    assert "url.full" not in attributes


async def test_registration_is_a_span_over_its_pbx_calls_and_a_traced_call_leaks_nothing(
    spans: Spans, fake: FakePBX, pbx_base: str
) -> None:
    """End to end over loopback: the app registers on the fake PBX, which then places a GET call
    (caller number and name in the query string) with the route's Basic credentials."""
    service = Registration(interval=0)

    def build(base: str) -> IVRHooks:
        app = new_app(pbx_base, fake, public_url=base, method="GET", tracing=spans.provider)
        add_menu(app)
        app.services.append(service)
        return app

    async with served_app(build=build) as (app, _):
        await service.wait_for(successes=1)
        result = await fake.dial("8000", "5557654321", "1", "Ann Smith", session_id="call-7")
        credentials = app.credentials_for(app.routes[0])
    assert result.status == 200 and result.destination == "2001"

    registration = spans.named("ivrhooks registration")
    assert registration.kind is SpanKind.INTERNAL
    assert registration.status.status_code is StatusCode.UNSET
    attributes = dict(registration.attributes or {})
    assert attributes["ivrhooks.registration.creates"] == 3
    assert attributes["ivrhooks.registration.receptionists"] == 1
    children = [
        s
        for s in spans.finished
        if s.parent is not None and s.parent.span_id == registration.context.span_id
    ]
    assert children and all(s.kind is SpanKind.CLIENT for s in children)
    names = {s.name for s in children}
    assert "GET /api/ivrs/{id}/action_urls" in names
    assert "POST /api/ivrs/{id}/action_urls" in names
    # The login the first call needed is a span of its own, under that call.
    assert any(s.name == "POST /api/auth/sign_in" for s in spans.finished)

    server = spans.named("GET /hooks/sales")
    assert (server.attributes or {})["ivrhooks.auth.scheme"] == "basic"
    assert (server.attributes or {})["ivrhooks.session_id"] == "call-7"
    text = spans.text()
    assert credentials is not None
    tokens = [*fake.tokens._access, *fake.tokens._refresh]
    assert tokens, "the fake issued a token"
    forbidden = [
        "5557654321",
        "Ann Smith",
        "Ann%20Smith",
        "Ann+Smith",
        SECRET,
        fake.password,
        credentials.username,
        credentials.password,
        fake.ivr("8000").id,
        *(url.id for url in fake.action_urls("8000")),
        *tokens,
    ]
    assert [value for value in forbidden if value in text] == []
