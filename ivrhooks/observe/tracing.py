"""The tracing seam: what ivrhooks asks of a tracer.

ivrhooks depends on ``opentelemetry-api`` only optionally (``pip install ivrhooks[otel]``), as
OpenTelemetry advises libraries to: the application installs the SDK and sets a tracer provider;
ivrhooks then makes its spans with it. Whether it does is decided once, when the app is built
(:func:`ivrhooks.tracing_setup.start_tracing`): the provider must be set before the app
starts. Without one, ivrhooks never imports OpenTelemetry when the application did not (no
provider can have been set then), and the request path runs the code it runs without tracing at
all: no span objects, no context switches, no checks beyond one ``None`` per request.

The rest of ivrhooks sees only the small protocols below (:class:`Tracing`, :class:`Span`);
:mod:`ivrhooks.otel` implements them with OpenTelemetry, and :data:`NO_TRACING` with nothing.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Literal, Protocol

if TYPE_CHECKING:
    from ivrhooks.core.request import ActionRequest, Handler
    from ivrhooks.observe.observer import Observer

__all__ = ["NO_TRACING", "AttributeValue", "Span", "SpanKind", "Tracing"]

AttributeValue = str | bool | int | float
SpanKind = Literal["internal", "client", "server"]


class Span(Protocol):
    """A span in progress, as ivrhooks' own code handles it."""

    def set(self, key: str, value: AttributeValue) -> None:
        """Set one attribute."""
        ...

    def event(self, name: str, attributes: Mapping[str, AttributeValue]) -> None:
        """Add a timed event (a retry, say)."""
        ...

    def fail(self, error_type: str, exception: BaseException | None = None) -> None:
        """Mark the span failed (status error, ``error.type``); with ``exception``, record its
        type and stack, never its message (messages can carry what a span must not)."""
        ...


class Tracing(Protocol):
    """What ivrhooks needs of a tracer."""

    observer: Observer
    """Puts what the endpoint reports (route, decision, fallback cause…) on the request's span."""

    def span(
        self,
        name: str,
        kind: SpanKind = "internal",
        attributes: Mapping[str, AttributeValue] | None = None,
    ) -> AbstractContextManager[Span]:
        """A span, current for the ``with`` block (code inside it makes child spans); an
        exception leaving the block fails it (type and stack only) and goes on."""
        ...

    def ids(self) -> tuple[str, str] | None:
        """The current span's trace and span ids (32 and 16 hex digits), if one is recording."""
        ...

    def begin(self, what: str, request: ActionRequest, handler: Handler) -> object:
        """Start the span around a handler (``what``: ``handler`` or ``fallback``) and make it
        current; the token goes to :meth:`end`."""
        ...

    def end(self, token: object, failure: str | None, exception: BaseException | None) -> None:
        """End a handler's span: ``failure`` is the fallback cause the handler's failure gave
        (``error``, ``timeout``, ``invalid``) or ``None`` when it decided."""
        ...


class _NoSpan:
    __slots__ = ()

    def set(self, key: str, value: AttributeValue) -> None:
        pass

    def event(self, name: str, attributes: Mapping[str, AttributeValue]) -> None:
        pass

    def fail(self, error_type: str, exception: BaseException | None = None) -> None:
        pass


_NO_SPAN = _NoSpan()


class _NoTracing:
    """Tracing off: spans that record nothing (for code off the request path, where a
    ``with`` costs nothing that matters; the request path checks for ``None`` instead)."""

    def __init__(self) -> None:
        from ivrhooks.observe.observer import Observer

        self.observer: Observer = Observer()

    @contextmanager
    def span(
        self,
        name: str,
        kind: SpanKind = "internal",
        attributes: Mapping[str, AttributeValue] | None = None,
    ) -> Iterator[Span]:
        yield _NO_SPAN

    def ids(self) -> tuple[str, str] | None:
        return None

    def begin(self, what: str, request: ActionRequest, handler: Handler) -> object:
        return None

    def end(self, token: object, failure: str | None, exception: BaseException | None) -> None:
        pass


NO_TRACING: Tracing = _NoTracing()
