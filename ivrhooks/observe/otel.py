"""OpenTelemetry behind :mod:`ivrhooks.tracing`: spans with the application's tracer provider.

Imported only when the app is built with a tracer provider that records (see
:func:`ivrhooks.tracing.start_tracing`), so ``opentelemetry-api`` stays an optional dependency.
The attribute names are the stable semantic conventions' (HTTP, URL, server, network, error,
code), written out here rather than taken from ``opentelemetry-semantic-conventions``, which
the API does not bring; ``tests/tracing/test_semconv.py`` checks them against that package.

What a span never carries: a query string, the caller's number or name, a credential, a PBX
resource id or token, an exception's message (a handler's message may well name the caller):
exceptions are recorded by type and stack only.
"""

from __future__ import annotations

import traceback
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import Token
from typing import TYPE_CHECKING, Any

from opentelemetry import context as context_api
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import SpanKind as OTelKind
from opentelemetry.trace import Status, StatusCode

from ivrhooks._version import __version__
from ivrhooks.observe.metrics import exported_reason
from ivrhooks.observe.observer import Observer
from ivrhooks.observe.tracing import AttributeValue, Span, SpanKind

if TYPE_CHECKING:
    from ivrhooks.core.auth.verdict import Verdict
    from ivrhooks.core.request import ActionRequest, Handler
    from ivrhooks.core.runner import Outcome

__all__ = ["OTelTracing", "error_type", "fail", "tracing_for"]

#: The semantic-conventions version the attribute names follow.
SCHEMA_URL = "https://opentelemetry.io/schemas/1.34.0"

_KINDS = {"internal": OTelKind.INTERNAL, "client": OTelKind.CLIENT, "server": OTelKind.SERVER}


def error_type(exc: BaseException) -> str:
    """``error.type`` for an exception: its fully qualified class name (builtins: the name)."""
    cls = type(exc)
    module = cls.__module__
    return cls.__qualname__ if module == "builtins" else f"{module}.{cls.__qualname__}"


def fail(span: trace.Span, kind: str, exception: BaseException | None = None) -> None:
    """Status error with ``error.type`` ``kind``; an exception by type and stack only."""
    span.set_attribute("error.type", kind)
    span.set_status(Status(StatusCode.ERROR, kind))
    if exception is not None:
        span.add_event(
            "exception",
            {
                "exception.type": error_type(exception),
                "exception.stacktrace": "".join(traceback.format_tb(exception.__traceback__)),
            },
        )


class _Span:
    __slots__ = ("span",)

    def __init__(self, span: trace.Span) -> None:
        self.span = span

    def set(self, key: str, value: AttributeValue) -> None:
        self.span.set_attribute(key, value)

    def event(self, name: str, attributes: Mapping[str, AttributeValue]) -> None:
        self.span.add_event(name, dict(attributes))

    def fail(self, error_type: str, exception: BaseException | None = None) -> None:
        fail(self.span, error_type, exception)


class _Running:
    """A handler's span and the context token that made it current."""

    __slots__ = ("attached", "span")

    def __init__(self, span: trace.Span, attached: Token[Context]) -> None:
        self.span = span
        self.attached = attached


class _SpanObserver(Observer):
    """Puts what the endpoint reports on the current span: the request's server span, which
    :mod:`ivrhooks.server.tracing` keeps current while the endpoint runs."""

    def answered(
        self, request: ActionRequest, outcome: Outcome, latency: float, scheme: str
    ) -> None:
        span = trace.get_current_span()
        if not span.is_recording():
            return
        decision = outcome.decision
        attributes: dict[str, Any] = {
            "ivrhooks.receptionist": request.to,
            "ivrhooks.kind": request.kind,
            "ivrhooks.action": decision.action,
            "ivrhooks.answered_by": outcome.handler,
            "ivrhooks.deadline_hit": outcome.deadline_hit,
        }
        if decision.destination is not None:
            attributes["ivrhooks.destination"] = decision.destination
        if outcome.cause is not None:
            attributes["ivrhooks.fallback.cause"] = outcome.cause
        if request.session_id is not None:
            attributes["ivrhooks.session_id"] = request.session_id
        span.set_attributes(attributes)

    def rejected(self, route: str, verdict: Verdict) -> None:
        span = trace.get_current_span()
        if span.is_recording():
            span.set_attribute("ivrhooks.auth.result", exported_reason(verdict.reason))


class OTelTracing:
    """:class:`ivrhooks.tracing.Tracing` with an OpenTelemetry tracer."""

    def __init__(self, tracer: trace.Tracer) -> None:
        self.tracer = tracer
        self.observer: Observer = _SpanObserver()
        self._names: dict[object, str] = {}

    @contextmanager
    def span(
        self,
        name: str,
        kind: SpanKind = "internal",
        attributes: Mapping[str, AttributeValue] | None = None,
    ) -> Iterator[Span]:
        span = self.tracer.start_span(
            name,
            kind=_KINDS[kind],
            attributes=attributes,
            record_exception=False,
            set_status_on_exception=False,
        )
        token = context_api.attach(trace.set_span_in_context(span))
        try:
            yield _Span(span)
        except Exception as exc:
            if span.is_recording():
                fail(span, error_type(exc), exc)
            raise
        finally:
            context_api.detach(token)
            span.end()

    def ids(self) -> tuple[str, str] | None:
        context = trace.get_current_span().get_span_context()
        if not context.is_valid:
            return None
        return format(context.trace_id, "032x"), format(context.span_id, "016x")

    def begin(self, what: str, request: ActionRequest, handler: Handler) -> object:
        name = self._names.get(handler)
        if name is None:
            module = getattr(handler, "__module__", None) or "?"
            qualname = getattr(handler, "__qualname__", None) or type(handler).__qualname__
            name = self._names[handler] = f"{module}.{qualname}"
        span = self.tracer.start_span(
            f"{what} {request.route}",
            attributes={"ivrhooks.route": request.route, "code.function.name": name},
            record_exception=False,
            set_status_on_exception=False,
        )
        return _Running(span, context_api.attach(trace.set_span_in_context(span)))

    def end(self, token: object, failure: str | None, exception: BaseException | None) -> None:
        assert isinstance(token, _Running)
        span = token.span
        context_api.detach(token.attached)
        if failure is not None and span.is_recording():
            kind = "timeout" if failure == "timeout" or exception is None else error_type(exception)
            fail(span, kind, None if failure == "timeout" else exception)
        span.end()


def tracing_for(provider: object) -> OTelTracing | None:
    """Tracing with ``provider``, or ``None`` when it records nothing (the API's default
    providers, or the SDK's under ``OTEL_SDK_DISABLED=true``)."""
    if not isinstance(provider, trace.TracerProvider) or isinstance(
        provider, trace.ProxyTracerProvider | trace.NoOpTracerProvider
    ):
        return None
    tracer = provider.get_tracer("ivrhooks", __version__, schema_url=SCHEMA_URL)
    if isinstance(tracer, trace.NoOpTracer | trace.ProxyTracer):
        return None
    return OTelTracing(tracer)
