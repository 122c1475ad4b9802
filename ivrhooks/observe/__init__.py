"""Observability: what ivrhooks reports of itself. The :class:`Observer` interface and its
fan-out (:mod:`.observer`), the built-in observer (:mod:`.builtin`: the request line and the
Prometheus series), logs (:mod:`.logs`, :mod:`.logformat`, :mod:`.logwriter`,
:mod:`.requestline`), metrics (:mod:`.metrics`), tracing (:mod:`.tracing`, :mod:`.otel`) and the
call journal kept for the development tools (:mod:`.journal`)."""
