"""Whose trace a request joins (issue 23, finding 11): the caller's ``traceparent`` only once its
credentials admitted it; a rejected request gets a trace of its own, recorded whatever flags it
sent. In process: the point is which context the span starts with, not the network."""

from __future__ import annotations

import time
from pathlib import Path

import bcrypt
import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan

from ivrhooks import ActionRequest, AuthConfig, IVRHooks, StaticCredentials, call
from ivrhooks.core.auth import derive_credentials
from ivrhooks.store import MemoryStore
from ivrhooks.store.replay import StoreReplay
from tests.tracing.conftest import Spans

SECRET = "trace-context-trust-secret-0123456789"
CREDS = derive_credentials(SECRET, "sales")
CALL = {"from": "5551234", "to": "8000", "input": "1"}
TRACE, PARENT = "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331"


def traceparent(flags: str = "01") -> dict[str, str]:
    return {"traceparent": f"00-{TRACE}-{PARENT}-{flags}"}


def app_with(spans: Spans, scheme: str, **auth: object) -> tuple[IVRHooks, list[str]]:
    app = IVRHooks(
        receptionists=["8000"],
        auth=AuthConfig(scheme=scheme, secret=SECRET, **auth),  # type: ignore[arg-type]
        tracing=spans.provider,
        env=False,
    )
    called: list[str] = []

    @app.dtmf("1")
    async def sales(req: ActionRequest) -> object:
        called.append(req.caller)
        return call("2001")

    return app, called


def client(app: IVRHooks) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ivr")


def servers(spans: Spans) -> list[ReadableSpan]:
    return [s for s in spans.finished if s.name == "POST /hooks/sales"]


def own_trace(span: ReadableSpan) -> bool:
    """A trace the request did not choose: not the traceparent's, no remote parent."""
    return format(span.context.trace_id, "032x") != TRACE and span.parent is None


def callers_child(span: ReadableSpan) -> bool:
    return (
        format(span.context.trace_id, "032x") == TRACE
        and span.parent is not None
        and span.parent.is_remote
        and format(span.parent.span_id, "016x") == PARENT
    )


WRONG = httpx.BasicAuth("wrongname1", "wrongpass1")


@pytest.mark.parametrize("flags", ["01", "00"], ids=["sampled", "not-sampled"])
@pytest.mark.parametrize(
    ("scheme", "auth", "allow", "status"),
    [
        ("basic", None, (), 401),
        ("basic", WRONG, (), 401),
        ("bearer", None, (), 401),
        ("digest", None, (), 401),
        ("basic", httpx.BasicAuth(CREDS.username, CREDS.password), ("192.0.2.0/24",), 403),
    ],
    ids=["basic-missing", "basic-wrong", "bearer-missing", "digest-challenge", "not-allowed"],
)
async def test_a_rejected_request_gets_a_recorded_trace_of_its_own(
    spans: Spans,
    flags: str,
    scheme: str,
    auth: httpx.Auth | None,
    allow: tuple[str, ...],
    status: int,
) -> None:
    app, called = app_with(spans, scheme, allow=allow)
    async with client(app) as c:
        reply = await c.post(
            "/hooks/sales",
            json=CALL,
            headers=traceparent(flags),
            auth=auth or httpx.USE_CLIENT_DEFAULT,
        )
    assert reply.status_code == status
    [span] = servers(spans)  # exported: recorded, flags 00 or not
    assert own_trace(span)
    assert (span.attributes or {})["http.response.status_code"] == status
    assert "ivrhooks.auth.result" in (span.attributes or {})
    assert called == []


def _htpasswd(tmp_path: Path) -> Path:
    path = tmp_path / "htpasswd"
    path.write_text(f"vaultuser1:{bcrypt.hashpw(b'vaultpass1', bcrypt.gensalt(4)).decode()}\n")
    return path


@pytest.mark.parametrize("kind", ["basic", "bearer", "digest", "digest-shared-window", "bcrypt"])
async def test_an_admitted_request_joins_the_callers_trace(
    spans: Spans, kind: str, tmp_path: Path
) -> None:
    """Every way credentials are admitted: at once (derived), after the shared replay window
    answers (a Digest nc recorded in a store), after a slow hash off the event loop (bcrypt)."""
    scheme = kind.partition("-")[0] if kind != "bcrypt" else "basic"
    extra: dict[str, object] = {}
    if kind == "digest-shared-window":
        window = StoreReplay(MemoryStore(), "trust:nc:")
        await window.begin(time.time())  # what the server's startup does (no lifespan here)
        extra["replay_store"] = window
    app, called = app_with(spans, scheme, **extra)
    auth: httpx.Auth | None = {
        "basic": httpx.BasicAuth(CREDS.username, CREDS.password),
        "digest": httpx.DigestAuth(CREDS.username, CREDS.password),
        "digest-shared-window": httpx.DigestAuth(CREDS.username, CREDS.password),
        "bcrypt": httpx.BasicAuth("vaultuser1", "vaultpass1"),
    }.get(kind)
    headers = traceparent()
    if kind == "bearer":
        headers["authorization"] = f"Bearer {CREDS.token}"
    if kind == "bcrypt":
        app = IVRHooks(receptionists=["8000"], secret=SECRET, tracing=spans.provider, env=False)

        @app.dtmf("1", credentials=StaticCredentials(htpasswd=_htpasswd(tmp_path)))
        async def sales(req: ActionRequest) -> object:
            called.append(req.caller)
            return call("2001")

    async with client(app) as c:
        reply = await c.post(
            "/hooks/sales", json=CALL, headers=headers, auth=auth or httpx.USE_CLIENT_DEFAULT
        )
    assert reply.status_code == 200 and called == ["5551234"]
    *challenged, answered = servers(spans)
    assert callers_child(answered)
    # The handler's span is in the caller's trace too.
    [handler] = [s for s in spans.finished if s.name == "handler sales"]
    assert handler.parent is not None and handler.parent.span_id == answered.context.span_id
    # A Digest client's first leg, without credentials, was a rejection: a trace of its own.
    assert all(own_trace(span) for span in challenged)
    assert len(challenged) == (1 if scheme == "digest" else 0)


async def test_a_route_without_authentication_admits_every_caller_and_its_trace(
    spans: Spans,
) -> None:
    app = IVRHooks(
        receptionists=["8000"], auth="none", allow_no_auth=True, tracing=spans.provider, env=False
    )

    @app.dtmf("1")
    async def sales(req: ActionRequest) -> object:
        return call("2001")

    async with client(app) as c:
        assert (await c.post("/hooks/sales", json=CALL, headers=traceparent())).status_code == 200
    [span] = servers(spans)
    assert callers_child(span)


async def test_a_request_answered_before_any_verdict_gets_a_trace_of_its_own(
    spans: Spans,
) -> None:
    """A wrong method is answered 405 before credentials are read: not admitted either."""
    app, called = app_with(spans, "basic")
    async with client(app) as c:
        reply = await c.get("/hooks/sales", params=CALL, headers=traceparent())
    assert reply.status_code == 405
    [span] = [s for s in spans.finished if s.name == "GET /hooks/sales"]
    assert own_trace(span) and called == []
