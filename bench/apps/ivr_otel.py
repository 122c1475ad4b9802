"""The ``ivrhooks run`` bench app with OpenTelemetry in one of three states (``BENCH_OTEL``):

- ``absent``: ``import opentelemetry`` fails, as if the package were not installed;
- ``off``: the API imported by the application, no tracer provider set (what an app that uses
  OpenTelemetry elsewhere but exports nothing has);
- ``sdk``: the SDK's ``TracerProvider`` set globally before the app is built, its spans going
  through a ``BatchSpanProcessor`` (what production uses) to an exporter that drops them, so
  the figure is the cost of making, ending and queueing the spans, not of a collector.

For ``ivrhooks run bench/apps/ivr_otel.py:app`` (see bench/e2e.py); the routes and scheme come
from ``BENCH_ROUTES`` and ``BENCH_SCHEME`` as for ``bench/apps/ivr_run.py``.
"""

from __future__ import annotations

import importlib.abc
import os
import sys
from collections.abc import Sequence
from types import ModuleType

MODE = os.environ.get("BENCH_OTEL", "off")


class _NotInstalled(importlib.abc.MetaPathFinder):
    def find_spec(
        self, name: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> None:
        if name == "opentelemetry" or name.startswith("opentelemetry."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


if MODE == "absent":
    sys.meta_path.insert(0, _NotInstalled())
elif MODE == "off":
    import opentelemetry.trace  # noqa: F401  # imported, no provider set
elif MODE == "sdk":
    from opentelemetry import trace
    from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
    from opentelemetry.sdk.trace.export import (
        BatchSpanProcessor,
        SpanExporter,
        SpanExportResult,
    )

    class _Dropped(SpanExporter):
        def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
            return SpanExportResult.SUCCESS

    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(_Dropped()))
    trace.set_tracer_provider(provider)
else:
    raise SystemExit(f"BENCH_OTEL={MODE!r}: choose absent, off or sdk")

from bench.apps.ivr import create  # noqa: E402

app = create()
