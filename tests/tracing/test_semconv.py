"""Every attribute ivrhooks puts on a span is either its own (``ivrhooks.*``) or a name of the
stable semantic conventions, as ``opentelemetry-semantic-conventions`` spells it; the one
exception, ``url.template`` (no stable name says "path template" yet), is named here."""

from __future__ import annotations

import importlib
import pkgutil

import httpx
from opentelemetry.semconv import attributes as stable

from ivrhooks import ActionRequest
from ivrhooks.observe.otel import tracing_for
from ivrhooks.pbx import PBXClient, RetryPolicy
from tests.conftest import new_app
from tests.tracing.conftest import Spans

DEVELOPMENT = {"url.template"}


def _stable_names() -> set[str]:
    names: set[str] = set()
    for module in pkgutil.iter_modules(stable.__path__):
        loaded = importlib.import_module(f"{stable.__name__}.{module.name}")
        names.update(v for k, v in vars(loaded).items() if k.isupper() and isinstance(v, str))
    return names


async def test_every_attribute_name_is_ivrhooks_own_or_a_stable_convention(spans: Spans) -> None:
    app = new_app(tracing=spans.provider)

    @app.dtmf("1")
    async def sales(req: ActionRequest) -> object:
        raise ValueError("so the exception event is there too")

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://pbx") as client:
        await client.post("/hooks/sales", json={"from": "1", "to": "8000", "input": "1"})
    replies = iter([httpx.Response(503), httpx.Response(200, json={"items": []})])
    async with PBXClient(
        "http://pbx.test/api",
        token="t" * 20,
        transport=httpx.MockTransport(lambda request: next(replies)),
        rate=None,
        retry=RetryPolicy(base=0.001),
        tracing=tracing_for(spans.provider),
    ) as pbx:
        await pbx.action_urls.list("x")
    used: set[str] = set()
    for span in spans.ivrhooks():
        used.update(span.attributes or {})
        for event in span.events:
            used.update(event.attributes or {})
    foreign = {name for name in used if not name.startswith("ivrhooks.")}
    assert len(foreign) > 10, foreign
    assert foreign - DEVELOPMENT <= _stable_names(), foreign - DEVELOPMENT - _stable_names()
