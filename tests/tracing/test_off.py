"""Tracing off costs nothing: decided once at build time, the request path then runs no
OpenTelemetry code at all, and an app that never imported OpenTelemetry never imports it."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

import httpx
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider

from ivrhooks import ActionRequest, IVRHooks, call
from ivrhooks.observe.builtin import RequestObserver
from ivrhooks.observe.tracing_setup import start_tracing
from tests.conftest import new_app
from tests.tracing.conftest import Spans

ROOT = Path(__file__).resolve().parents[2]
CALL = {"from": "5551234", "to": "8000", "input": "1"}


def _app(**options: Any) -> IVRHooks:
    app = new_app(**options)

    @app.dtmf("1")
    async def sales(req: ActionRequest) -> object:
        return call("2001")

    return app


async def _ask(app: IVRHooks) -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://pbx") as client:
        assert (await client.post("/hooks/sales", json=CALL)).status_code == 200


def test_an_app_that_never_imported_opentelemetry_never_imports_it() -> None:
    script = textwrap.dedent(
        """
        import asyncio, sys
        import httpx
        from ivrhooks import IVRHooks, call

        app = IVRHooks(["8000"], auth="none", allow_no_auth=True, env=False)

        @app.dtmf("1")
        def sales(req):
            return call("2001")

        async def ask():
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://pbx") as client:
                call_data = {"from": "1", "to": "8000", "input": "1"}
                reply = await client.post("/hooks/sales", json=call_data)
                assert reply.status_code == 200, reply.text

        asyncio.run(ask())
        loaded = sorted(m for m in sys.modules if m.startswith("opentelemetry"))
        traced = ("ivrhooks.observe.otel", "ivrhooks.server.tracing")
        ours = sorted(m for m in sys.modules if m in traced)
        print(loaded, ours)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[] []"


@pytest.mark.parametrize(
    "provider",
    [
        lambda: trace.ProxyTracerProvider(),  # nothing set: what get_tracer_provider() returns
        lambda: trace.NoOpTracerProvider(),
        lambda: None,
    ],
    ids=["unset-proxy", "no-op", "none"],
)
def test_a_provider_that_records_nothing_means_off(provider: Callable[[], object]) -> None:
    assert start_tracing(provider()) is None


def test_an_sdk_provider_disabled_by_the_environment_means_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    assert start_tracing(TracerProvider(shutdown_on_exit=False)) is None


def test_tracing_false_is_off_even_with_a_global_provider(
    spans: Spans, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(trace, "get_tracer_provider", lambda: spans.provider)
    assert start_tracing(False) is None
    assert start_tracing(True) is not None


async def test_the_global_provider_is_found_at_build_and_only_then(
    spans: Spans, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = _app()
    before = app.build()  # no provider yet: off for the life of this build
    monkeypatch.setattr(trace, "get_tracer_provider", lambda: spans.provider)
    after = app.build()
    assert before.endpoint.trace is None and after.endpoint.trace is not None
    app._server = after
    await _ask(app)
    assert [s.name for s in spans.finished] == ["handler sales", "POST /hooks/sales"]
    spans.exporter.clear()
    app._server = before
    await _ask(app)
    assert spans.finished == []


async def test_off_the_request_path_is_the_untraced_one_and_runs_no_tracing_code() -> None:
    app = _app()
    server = app.build()
    assert server.endpoint.trace is None
    assert server._action is server.endpoint  # no span wrapper
    observer = server.endpoint.observer
    assert type(observer) is RequestObserver  # the built-in one, called directly
    assert observer.trace_ids is None
    app._server = server
    await _ask(app)  # warm: anything lazy happens now
    called: set[str] = set()

    def profile(frame: FrameType, event: str, arg: object) -> None:
        if event == "call":
            called.add(frame.f_code.co_filename)

    sys.setprofile(profile)
    try:
        await _ask(app)
    finally:
        sys.setprofile(None)
    assert any(name.endswith("ivrhooks/server/endpoint.py") for name in called)
    tracing_code = [
        name
        for name in called
        if "opentelemetry" in name
        or name.endswith(("ivrhooks/otel.py", "ivrhooks/server/tracing.py", "ivrhooks/tracing.py"))
    ]
    assert tracing_code == []
