"""The PBX REST client's Prometheus series (part of :class:`ivrhooks.metrics.Metrics`).

Labelled by endpoint *template* (``ivrs/{id}/action_urls``, see
:mod:`ivrhooks.pbx.templates`), never by a path with ids: about twenty templates, so the series
stay few however many receptionists the PBX has. The PBX shares one request budget among every
integration and blocks sources that abuse it (PortSIP REST "About"): the 429 and retry counts
are what to alert on.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

__all__ = ["PBX_BUCKETS", "PBXSeries"]

#: A REST call takes tens of milliseconds to seconds (retries and a 429's wait included); the
#: client's own timeout is 10 s per attempt and 30 s of retrying.
PBX_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

LOGIN_KINDS = ("login", "refresh")


class PBXSeries:
    """Requests by endpoint, method and status; latency; retries; 429s; logins."""

    def __init__(self, registry: CollectorRegistry) -> None:
        r = registry
        self._requests = Counter(
            "ivrhooks_pbx_requests",
            "PBX REST calls, by endpoint template, method and final status ('error': no answer).",
            ("endpoint", "method", "status"),
            registry=r,
        )
        self._latency = Histogram(
            "ivrhooks_pbx_request_duration_seconds",
            "Time a PBX REST call took, from the first attempt to the final answer.",
            ("endpoint", "method"),
            buckets=PBX_BUCKETS,
            registry=r,
        )
        self._retries = Counter(
            "ivrhooks_pbx_retries",
            "PBX REST attempts repeated after a failure or a 429/502/503/504, by endpoint.",
            ("endpoint",),
            registry=r,
        )
        self._limited = Counter(
            "ivrhooks_pbx_rate_limited",
            "429 answers from the PBX (its request budget is spent), by endpoint.",
            ("endpoint",),
            registry=r,
        )
        self._logins = Counter(
            "ivrhooks_pbx_logins",
            "Logins and token refreshes sent to the PBX, by kind and result.",
            ("kind", "result"),
            registry=r,
        )
        # Exported as 0 before the first one: an alert on rate(...) needs the series to exist.
        for kind in LOGIN_KINDS:
            for result in ("ok", "refused"):
                self._logins.labels(kind, result)

    def request(
        self,
        endpoint: str,
        method: str,
        status: int | None,
        seconds: float,
        retries: int,
        rate_limited: int,
    ) -> None:
        """Record one call (its retries included)."""
        self._requests.labels(endpoint, method, "error" if status is None else str(status)).inc()
        self._latency.labels(endpoint, method).observe(seconds)
        if retries:
            self._retries.labels(endpoint).inc(retries)
        if rate_limited:
            self._limited.labels(endpoint).inc(rate_limited)

    def login(self, kind: str, ok: bool) -> None:
        """Record one login or refresh over the wire."""
        self._logins.labels(kind, "ok" if ok else "refused").inc()
