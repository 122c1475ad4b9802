"""Whether an app traces: decided once, when it is built, from the tracer provider in use.

Kept apart from :mod:`ivrhooks.tracing` (the protocols the rest of ivrhooks codes against) and
:mod:`ivrhooks.otel` (their OpenTelemetry implementation, which imports the optional
dependency): this module imports neither OpenTelemetry nor, unless a provider records,
:mod:`ivrhooks.otel`.
"""

from __future__ import annotations

import sys

from ivrhooks.observe.tracing import Tracing

__all__ = ["start_tracing"]


def start_tracing(choice: object = True) -> Tracing | None:
    """The app's tracing, decided once at build time; ``None`` when off.

    ``choice``: ``True`` uses the tracer provider the application set globally
    (``opentelemetry.trace.set_tracer_provider``), if it set one; ``False`` never traces; a
    ``TracerProvider`` is used as given (tests, or an app that keeps its provider to itself).
    A provider that records nothing (the API's default, ``NoOpTracerProvider``, or the SDK
    under ``OTEL_SDK_DISABLED=true``) means off.
    """
    if choice is False or choice is None:
        return None
    if choice is True:
        api = sys.modules.get("opentelemetry.trace")
        if api is None:
            # Nothing imported OpenTelemetry, so nothing set a provider: stay out of it.
            return None
        provider: object = api.get_tracer_provider()
    else:
        provider = choice
    from ivrhooks.observe.otel import tracing_for  # the optional dependency, imported only now

    return tracing_for(provider)
