"""One server span per action-URL request, a child span per handler run, the user's own spans
under it; names, attributes and status as the semantic conventions and the issue say."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from opentelemetry.trace import SpanKind, StatusCode

from ivrhooks import ActionRequest, IVRHooks, call, hangup
from ivrhooks.core.auth import derive_credentials
from tests.conftest import new_app
from tests.tracing.conftest import Spans

Client = Callable[[IVRHooks], httpx.AsyncClient]
CALL = {"from": "5551234", "to": "8000", "input": "1", "from_name": "Ann Smith"}


def traced_app(spans: Spans, **options: Any) -> IVRHooks:
    return new_app(tracing=spans.provider, methods=("GET", "POST"), **options)


async def test_the_server_span_is_named_by_route_and_carries_the_stable_http_attributes(
    spans: Spans, client_for: Client
) -> None:
    app = traced_app(spans)

    @app.dtmf("1")
    async def sales(req: ActionRequest) -> object:
        return call("2001")

    async with client_for(app) as client:
        reply = await client.post(
            "/hooks/sales", json={**CALL, "session_id": "s-42"}, headers={"user-agent": "PortSIP"}
        )
    assert reply.status_code == 200
    server = spans.named("POST /hooks/sales")
    assert server.kind is SpanKind.SERVER
    assert server.parent is None
    assert server.status.status_code is StatusCode.UNSET
    assert dict(server.attributes or {}) == {
        "http.request.method": "POST",
        "http.route": "/hooks/sales",
        "http.response.status_code": 200,
        "url.path": "/hooks/sales",
        "url.scheme": "http",
        "server.address": "pbx",
        "server.port": 80,
        "network.peer.address": "127.0.0.1",
        "network.peer.port": 123,
        "network.protocol.version": "1.1",
        "user_agent.original": "PortSIP",
        "ivrhooks.route": "sales",
        "ivrhooks.auth.scheme": "none",
        "ivrhooks.receptionist": "8000",
        "ivrhooks.kind": "DTMF",
        "ivrhooks.action": "call",
        "ivrhooks.destination": "2001",
        "ivrhooks.answered_by": "route",
        "ivrhooks.deadline_hit": False,
        "ivrhooks.session_id": "s-42",
    }
    handler = spans.named("handler sales")
    assert handler.kind is SpanKind.INTERNAL
    assert handler.parent is not None and handler.parent.span_id == server.context.span_id
    assert dict(handler.attributes or {}) == {
        "ivrhooks.route": "sales",
        "code.function.name": f"{__name__}.{sales.__qualname__}",
    }


async def test_a_get_request_has_no_query_in_any_span(spans: Spans, client_for: Client) -> None:
    app = traced_app(spans)

    @app.dtmf("1")
    async def sales(req: ActionRequest) -> object:
        return hangup()

    async with client_for(app) as client:
        reply = await client.get("/hooks/sales", params=CALL)
    assert reply.status_code == 200
    server = spans.named("GET /hooks/sales")
    attributes = dict(server.attributes or {})
    assert "url.query" not in attributes and "url.full" not in attributes
    assert attributes["url.path"] == "/hooks/sales"
    assert "destination" not in spans.text() and "ivrhooks.destination" not in attributes
    for secret in ("5551234", "Ann", "Smith", "from_name", "input="):
        assert secret not in spans.text()


def _sync_handler(tracer: Any) -> Callable[[ActionRequest], object]:
    def lookup(req: ActionRequest) -> object:
        with tracer.start_as_current_span("crm lookup"):
            return call("2001")

    return lookup


def _eager_handler(tracer: Any) -> Callable[[ActionRequest], object]:
    async def lookup(req: ActionRequest) -> object:  # never suspends: the runner's eager path
        with tracer.start_as_current_span("crm lookup"):
            return call("2001")

    return lookup


def _suspending_handler(tracer: Any) -> Callable[[ActionRequest], object]:
    async def lookup(req: ActionRequest) -> object:
        with tracer.start_as_current_span("crm lookup"):
            await asyncio.sleep(0)  # resumes under the deadline's timer
            await asyncio.sleep(0.001)
            return call("2001")

    return lookup


@pytest.mark.parametrize(
    "make",
    [_eager_handler, _suspending_handler, _sync_handler],
    ids=["async-eager", "async-suspending", "sync-in-thread"],
)
async def test_the_handlers_own_spans_nest_under_its_span(
    spans: Spans, client_for: Client, make: Callable[[Any], Callable[[ActionRequest], object]]
) -> None:
    app = traced_app(spans)
    app.dtmf("1", name="sales")(make(spans.provider.get_tracer("crm")))
    async with client_for(app) as client:
        assert (await client.post("/hooks/sales", json=CALL)).status_code == 200
    server, handler, own = (
        spans.named("POST /hooks/sales"),
        spans.named("handler sales"),
        spans.named("crm lookup"),
    )
    assert own.parent is not None and own.parent.span_id == handler.context.span_id
    assert handler.parent is not None and handler.parent.span_id == server.context.span_id
    assert own.context.trace_id == handler.context.trace_id == server.context.trace_id


async def _raises(req: ActionRequest) -> object:
    raise ZeroDivisionError(f"no customer {req.caller} ({req.caller_name})")


async def _overruns(req: ActionRequest) -> object:
    await asyncio.sleep(5)
    return call("2001")


async def _invalid(req: ActionRequest) -> object:
    return {"action": "dance"}


@pytest.mark.parametrize(
    ("handler", "cause", "error_type", "recorded"),
    [
        (_raises, "error", "ZeroDivisionError", True),
        (_overruns, "timeout", "timeout", False),
        (_invalid, "invalid", "ivrhooks.errors.InvalidDecisionError", True),
    ],
    ids=["raises", "overruns", "invalid-decision"],
)
async def test_a_failing_handler_fails_its_span_and_the_fallback_still_answers(
    spans: Spans,
    client_for: Client,
    handler: Callable[[ActionRequest], object],
    cause: str,
    error_type: str,
    recorded: bool,
) -> None:
    app = traced_app(spans, deadline=0.2)
    app.dtmf("1", name="sales")(handler)

    @app.fallback
    async def operator(req: ActionRequest) -> object:
        return call("0")

    async with client_for(app) as client:
        reply = await client.post("/hooks/sales", json=CALL)
    assert reply.json()["destination"] == "0"
    failed = spans.named("handler sales")
    assert failed.status.status_code is StatusCode.ERROR
    assert (failed.attributes or {})["error.type"] == error_type
    events = [e for e in failed.events if e.name == "exception"]
    if recorded:
        [event] = events
        assert set(event.attributes or {}) == {"exception.type", "exception.stacktrace"}
        assert (event.attributes or {})["exception.type"] == error_type
    else:
        assert events == []
    fallback = spans.named("fallback sales")
    assert fallback.status.status_code is StatusCode.UNSET
    server = spans.named("POST /hooks/sales")
    # A fallback is still an answer: the request's span is not an error.
    assert server.status.status_code is StatusCode.UNSET
    attributes = dict(server.attributes or {})
    assert attributes["ivrhooks.fallback.cause"] == cause
    assert attributes["ivrhooks.answered_by"] == "fallback"
    assert attributes["ivrhooks.deadline_hit"] is (cause == "timeout")
    # The exception's message named the caller: no span carries it.
    assert "5551234" not in spans.text() and "Ann Smith" not in spans.text()


async def test_input_that_fits_no_route_answers_the_fallback_without_a_handler_span(
    spans: Spans, client_for: Client
) -> None:
    app = traced_app(spans)

    @app.dtmf("1")
    async def sales(req: ActionRequest) -> object:
        return call("2001")

    async with client_for(app) as client:
        assert (await client.post("/hooks/sales", json={**CALL, "input": "9"})).status_code == 200
    assert [s.name for s in spans.finished] == ["POST /hooks/sales"]
    attributes = dict(spans.finished[0].attributes or {})
    assert attributes["ivrhooks.fallback.cause"] == "no_match"
    assert attributes["ivrhooks.answered_by"] == "default"
    assert attributes["ivrhooks.action"] == "repeat"


@pytest.mark.parametrize(
    ("method", "body", "status", "name"),
    [
        ("PUT", None, 405, "PUT /hooks/sales"),
        ("BREW", None, 405, "HTTP /hooks/sales"),
        ("POST", {"to": "8000"}, 400, "POST /hooks/sales"),
    ],
    ids=["wrong-method", "invented-method", "missing-fields"],
)
async def test_a_client_error_is_recorded_but_not_an_error(
    spans: Spans,
    client_for: Client,
    method: str,
    body: dict[str, str] | None,
    status: int,
    name: str,
) -> None:
    app = traced_app(spans)

    @app.dtmf("1")
    async def sales(req: ActionRequest) -> object:
        return call("2001")

    async with client_for(app) as client:
        reply = await client.request(method, "/hooks/sales", json=body)
    assert reply.status_code == status
    span = spans.named(name)
    assert (span.attributes or {})["http.response.status_code"] == status
    assert span.status.status_code is StatusCode.UNSET
    if method == "BREW":
        assert (span.attributes or {})["http.request.method"] == "_OTHER"
        assert (span.attributes or {})["http.request.method_original"] == "BREW"


async def test_an_exception_out_of_the_endpoint_is_a_5xx_error_span(
    spans: Spans, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = traced_app(spans)

    @app.dtmf("1")
    async def sales(req: ActionRequest) -> object:
        return call("2001")

    async def broken(*args: object, **kwargs: object) -> object:
        raise RuntimeError("a bug in ivrhooks")

    monkeypatch.setattr("ivrhooks.server.endpoint.decide", broken)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://pbx") as client:
        assert (await client.post("/hooks/sales", json=CALL)).status_code == 500
    span = spans.named("POST /hooks/sales")
    assert span.status.status_code is StatusCode.ERROR
    assert (span.attributes or {})["error.type"] == "RuntimeError"


async def test_a_w3c_traceparent_makes_the_request_a_child_of_the_callers_trace(
    spans: Spans, client_for: Client
) -> None:
    app = traced_app(spans)

    @app.dtmf("1")
    async def sales(req: ActionRequest) -> object:
        return call("2001")

    trace_id, parent_id = "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331"
    async with client_for(app) as client:
        await client.post(
            "/hooks/sales", json=CALL, headers={"traceparent": f"00-{trace_id}-{parent_id}-01"}
        )
    server = spans.named("POST /hooks/sales")
    assert format(server.context.trace_id, "032x") == trace_id
    assert server.parent is not None and format(server.parent.span_id, "016x") == parent_id
    assert server.parent.is_remote


SECRET = "tracing-tests-secret-0123456789abcdef"
OTHER = derive_credentials(SECRET, "support")  # well-formed, for another route


@pytest.mark.parametrize(
    ("auth", "reason"),
    [(None, "missing"), (httpx.BasicAuth(OTHER.username, OTHER.password), "bad_credentials")],
    ids=["no-credentials", "another-routes-credentials"],
)
async def test_a_refused_request_says_why_on_its_span_and_never_the_credentials(
    spans: Spans, client_for: Client, auth: httpx.Auth | None, reason: str
) -> None:
    app = new_app(tracing=spans.provider, auth="basic", allow_no_auth=False, secret=SECRET)

    @app.dtmf("1")
    async def sales(req: ActionRequest) -> object:
        return call("2001")

    async with client_for(app) as client:
        reply = await client.post("/hooks/sales", json=CALL, auth=auth or httpx.USE_CLIENT_DEFAULT)
        assert reply.status_code == 401
    span = spans.named("POST /hooks/sales")
    attributes = dict(span.attributes or {})
    assert attributes["http.response.status_code"] == 401
    assert attributes["ivrhooks.auth.result"] == reason
    assert attributes["ivrhooks.auth.scheme"] == "basic"
    assert span.status.status_code is StatusCode.UNSET
    for secret in (SECRET, OTHER.username, OTHER.password):
        assert secret not in spans.text()


@pytest.mark.parametrize("scheme", ["basic", "digest", "bearer"])
async def test_an_authorised_request_leaves_no_credential_in_any_span(
    spans: Spans, scheme: str
) -> None:
    """Every scheme's credentials as the PBX sends them (the Digest nonce, cnonce and response
    too): none of it reaches a span, only the scheme and the outcome."""
    app = new_app(tracing=spans.provider, auth=scheme, allow_no_auth=False, secret=SECRET)

    @app.dtmf("1")
    async def sales(req: ActionRequest) -> object:
        return call("2001")

    mine = derive_credentials(SECRET, "sales")
    auth: httpx.Auth = {
        "basic": httpx.BasicAuth(mine.username, mine.password),
        "digest": httpx.DigestAuth(mine.username, mine.password),
    }.get(scheme, httpx.USE_CLIENT_DEFAULT)  # type: ignore[arg-type]
    headers = {"authorization": f"Bearer {mine.token}"} if scheme == "bearer" else {}
    sent: list[str] = []

    async def capture(request: httpx.Request) -> None:
        sent.extend(v for k, v in request.headers.items() if k == "authorization")

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://pbx",
        event_hooks={"request": [capture]},
    ) as client:
        reply = await client.post("/hooks/sales", json=CALL, auth=auth, headers=headers)
    assert reply.status_code == 200 and reply.json()["destination"] == "2001"
    assert sent, "the client sent its credentials"
    server = [s for s in spans.finished if s.name == "POST /hooks/sales"]
    assert server[-1].attributes is not None
    assert server[-1].attributes["ivrhooks.auth.scheme"] == scheme
    text = spans.text()
    pieces = {SECRET, mine.username, mine.password, mine.token}
    for header in sent:  # the raw header, and a Digest reply's nonce, cnonce, response, opaque
        pieces.update((header, header.split(" ", 1)[1]))
        fields = dict(p.split("=", 1) for p in header.split(" ", 1)[1].split(", ") if "=" in p)
        pieces.update(
            fields[k].strip('"') for k in ("nonce", "cnonce", "response", "opaque") if k in fields
        )
    for piece in sorted(p for p in pieces if len(p) >= 8):
        assert piece not in text, f"{piece!r} is in a span"
