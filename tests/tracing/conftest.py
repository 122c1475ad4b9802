"""An OpenTelemetry SDK provider per test, its spans kept in memory.

Never the global provider: it can be set once per process, and the tests that ask whether an
app finds the global one replace the API's lookup instead (``test_off.py``).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter


class Spans:
    """A provider and what it exported."""

    def __init__(self) -> None:
        self.exporter = InMemorySpanExporter()
        self.provider = TracerProvider(shutdown_on_exit=False)
        self.provider.add_span_processor(SimpleSpanProcessor(self.exporter))

    @property
    def finished(self) -> list[ReadableSpan]:
        return list(self.exporter.get_finished_spans())

    def named(self, name: str) -> ReadableSpan:
        found = [s for s in self.finished if s.name == name]
        assert len(found) == 1, f"{name!r}: {[s.name for s in self.finished]}"
        return found[0]

    def ivrhooks(self) -> list[ReadableSpan]:
        """The spans ivrhooks made (its instrumentation scope), not the test's own."""
        return [
            s
            for s in self.finished
            if s.instrumentation_scope is not None and s.instrumentation_scope.name == "ivrhooks"
        ]

    def text(self) -> str:
        """Every span as the exporter would serialise it: names, attributes, events, all."""
        return "\n".join(s.to_json() for s in self.finished)


@pytest.fixture
def spans() -> Iterator[Spans]:
    kept = Spans()
    yield kept
    kept.provider.shutdown()
