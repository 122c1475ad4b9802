"""docs/observability.md's recipe for the generic ASGI instrumentation, run as written: the
middleware makes no span (and so records no query string) on action-URL paths or the probes,
ivrhooks' own span still covers the call, and the middleware is live for everything else."""

from __future__ import annotations

import re
from functools import partial
from pathlib import Path
from typing import Any

import httpx
from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware

from ivrhooks import ActionRequest, IVRHooks, ServingConfig, call
from tests.tracing.conftest import Spans

DOC = Path(__file__).resolve().parents[2] / "docs" / "observability.md"
IMPORT = "from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware\n"


def recipe() -> str:
    section = DOC.read_text().split("## The generic ASGI instrumentation anyway", 1)[1]
    block = re.search(r"```python\n(.*?)```", section, re.S)
    assert block is not None, "the recipe's code block"
    assert IMPORT in block.group(1)
    return block.group(1)


async def test_the_documented_recipe_keeps_the_middleware_off_action_urls(spans: Spans) -> None:
    # Run the block as written, with the test's provider handed to the middleware (the docs'
    # version uses the global one, which a test must not set).
    namespace: dict[str, Any] = {
        "IVRHooks": partial(
            IVRHooks,
            env=False,
            auth="none",
            allow_no_auth=True,
            # GET: the method that puts the caller in the query string
            serving=ServingConfig(methods=("GET", "POST")),
            tracing=spans.provider,
        ),
        "OpenTelemetryMiddleware": partial(OpenTelemetryMiddleware, tracer_provider=spans.provider),
    }
    exec(recipe().replace(IMPORT, ""), namespace)  # noqa: S102 - the project's own docs
    app: IVRHooks = namespace["app"]

    @app.dtmf("1")
    async def sales(req: ActionRequest) -> object:
        return call("2001")

    transport = httpx.ASGITransport(app=namespace["asgi"])
    async with httpx.AsyncClient(transport=transport, base_url="http://pbx") as client:
        caller = {"from": "5551234", "to": "8000", "input": "1", "from_name": "Ann Smith"}
        reply = await client.get("/hooks/sales", params=caller)
        assert reply.status_code == 200 and reply.json()["destination"] == "2001"
        assert (await client.get("/healthz")).status_code == 200
        await client.get("/elsewhere?from=5551234")  # not excluded: the middleware's own span

    names = [s.name for s in spans.finished]
    assert "GET /hooks/sales" in names, "ivrhooks' own span"
    middleware = [
        s
        for s in spans.finished
        if s.instrumentation_scope is not None and s.instrumentation_scope.name.endswith("asgi")
    ]
    # One span, for /elsewhere only: none on the excluded paths, no send/receive spans.
    assert len(middleware) == 1 and "elsewhere" in middleware[0].to_json(), names
    assert not any("hooks" in s.to_json() or "healthz" in s.to_json() for s in middleware)
    for piece in ("5551234", "Ann"):
        assert piece not in "".join(s.to_json() for s in spans.finished if s not in middleware)
