"""The request's server span: one per action-URL request, around everything the endpoint does.

Used instead of the bare endpoint only when the app was built with tracing on (the choice is made
once, in :meth:`ivrhooks.IVRHooks.build`). The span is named ``{method} {route path}``
(``GET /hooks/sales``) and carries the stable HTTP semantic conventions' attributes, never
``url.query``: on a GET action URL the query string is the caller's number and name. The
ivrhooks attributes (route, auth scheme here; decision, fallback cause, session id from the
observer) say what the answer was. A W3C ``traceparent`` (or whatever the application's global
propagator reads) makes it a child of the caller's trace, once the caller's credentials have
admitted it (or on a route served without authentication); the PBX sends none. A rejected
request starts a trace of its own, so a stranger neither picks the trace id of its 401 nor,
with flags ``00``, keeps it out of the record. The span still begins when the request arrives:
it is started, with that time, when the verdict is known (``ivrhooks.server.auth.ADMISSION``).

Status: error for a 5xx answer or an exception out of the endpoint; a 4xx is the client's doing
and a fallback is still an answer, so both leave it unset (semantic conventions, HTTP server).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextvars import Token
from typing import Any

from opentelemetry import context as context_api
from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.trace import SpanKind, Status, StatusCode
from starlette.types import Message, Receive, Scope, Send

from ivrhooks.observe.otel import OTelTracing, error_type, fail
from ivrhooks.server.auth import ADMISSION
from ivrhooks.server.endpoint import ActionEndpoint, ServedRoute

__all__ = ["TracedEndpoint"]

# The methods the semantic conventions know; any other is "_OTHER" (and the span is "HTTP"),
# so a client inventing methods cannot invent span names.
_KNOWN_METHODS = frozenset(
    {"CONNECT", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "TRACE"}
)
_DEFAULT_PORTS = {"http": 80, "https": 443}


class TracedEndpoint:
    """Calls ``endpoint`` inside the request's server span, current while it runs."""

    def __init__(self, endpoint: ActionEndpoint, tracing: OTelTracing) -> None:
        self.endpoint = endpoint
        self._tracer = tracing.tracer
        # The header names the application's propagator reads (traceparent, tracestate,
        # baggage by default), looked for in one pass over the headers with the others.
        self._fields = frozenset(f.encode("latin-1") for f in propagate.get_global_textmap().fields)

    async def __call__(
        self, served: ServedRoute, scope: Scope, receive: Receive, send: Send
    ) -> None:
        method: str = scope["method"]
        carrier: dict[str, str] | None = None
        host = agent = None
        fields = self._fields
        for name, value in scope["headers"]:
            if name == b"host":
                host = value
            elif name == b"user-agent":
                agent = value
            elif name in fields:
                if carrier is None:
                    carrier = {}
                carrier[name.decode("latin-1")] = value.decode("latin-1")
        parent = propagate.extract(carrier) if carrier is not None else None
        scheme: str = scope.get("scheme", "http")
        attributes: dict[str, Any] = {
            "http.request.method": method if method in _KNOWN_METHODS else "_OTHER",
            "http.route": served.path,
            "url.path": _path(scope),
            "url.scheme": scheme,
            "ivrhooks.route": served.route.name,
            "ivrhooks.auth.scheme": served.scheme,
        }
        if method not in _KNOWN_METHODS:
            attributes["http.request.method_original"] = method
        _server(attributes, host, scope, scheme)
        client = scope.get("client")
        if client:
            attributes["network.peer.address"] = client[0]
            attributes["network.peer.port"] = client[1]
        version = scope.get("http_version")
        if version:
            attributes["network.protocol.version"] = version
        if agent is not None:
            attributes["user_agent.original"] = agent.decode("latin-1")
        name = f"{method} {served.path}" if method in _KNOWN_METHODS else f"HTTP {served.path}"
        status = 0

        async def send_traced(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        started: list[tuple[trace.Span, Token[Context]]] = []

        def start(admitted: bool, at: int | None = None) -> None:
            # The caller's context only for a request its credentials admitted: anyone can
            # write a traceparent, and a rejected request must neither pick its trace id nor,
            # with flags 00, go unrecorded. Without one, the ambient context (no headers').
            if not started:
                context = parent if admitted else None
                span = self._tracer.start_span(
                    name,
                    context=context,
                    kind=SpanKind.SERVER,
                    attributes=attributes,
                    start_time=at,
                    record_exception=False,
                    set_status_on_exception=False,
                )
                token = context_api.attach(trace.set_span_in_context(span, context))
                started.append((span, token))

        listening: Token[Callable[[bool], None] | None] | None = None
        arrived: int | None = None
        if parent is None or served.authenticator is None:
            # Nothing to decide: no context sent, or a route that admits every caller.
            start(True)
        else:
            # Started when the verdict is known (the span still begins now).
            arrived = time.time_ns()
            listening = ADMISSION.set(lambda admitted: start(admitted, arrived))
        failed = False
        try:
            await self.endpoint(served, scope, receive, send_traced)
        except Exception as exc:
            failed = True
            start(False, arrived)
            span = started[0][0]
            if span.is_recording():
                fail(span, error_type(exc), exc)
            raise
        finally:
            if listening is not None:
                ADMISSION.reset(listening)
                start(False, arrived)  # answered before any verdict (a 405, say)
            span, token = started[0]
            if status:
                span.set_attribute("http.response.status_code", status)
                if status >= 500 and not failed:
                    span.set_attribute("error.type", str(status))
                    span.set_status(Status(StatusCode.ERROR))
            context_api.detach(token)
            span.end()


def _path(scope: Scope) -> str:
    raw: bytes | None = scope.get("raw_path")
    path: str = raw.decode("latin-1") if raw is not None else scope["path"]
    return path.partition("?")[0]  # raw_path never holds the query; a proxy's might


def _server(attributes: dict[str, Any], host: bytes | None, scope: Scope, scheme: str) -> None:
    """``server.address`` and ``server.port``: from ``Host`` (what the PBX addressed), else
    the socket the request came in on."""
    if host:
        text = host.decode("latin-1")
        if text.startswith("["):  # an IPv6 literal: [::1]:8000
            address, _, rest = text[1:].partition("]")
            port_text = rest[1:] if rest.startswith(":") else ""
        else:
            address, _, port_text = text.partition(":")
        attributes["server.address"] = address
        if port_text.isdigit():
            attributes["server.port"] = int(port_text)
        elif scheme in _DEFAULT_PORTS:
            attributes["server.port"] = _DEFAULT_PORTS[scheme]
        return
    server = scope.get("server")
    if server:
        attributes["server.address"] = server[0]
        if server[1] is not None:
            attributes["server.port"] = server[1]
