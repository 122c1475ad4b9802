"""Prometheus metrics for the receiver and the reconciler, and the ``/metrics`` endpoint.

Each :class:`Metrics` owns its own ``CollectorRegistry`` instead of the global one, so several
apps in one process (tests, or an app plus the embedded fake PBX) never collide on names.

The request-latency buckets cluster around the PBX's 2-second ``request_timeout`` (PortSIP
admin guide, "Action URL": connection and request timeouts default to 2 s): what operators need
to see is how close answers come to that edge, not the shape of the fast path.
"""

from __future__ import annotations

import platform
from bisect import bisect_left
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from ivrhooks._version import __version__
from ivrhooks.core.types import FALLBACK_CAUSES
from ivrhooks.errors import InvalidArgumentError
from ivrhooks.observe.logwriter import dropped_lines
from ivrhooks.observe.metrics_cache import CacheSeries
from ivrhooks.observe.metrics_events import EventSeries
from ivrhooks.observe.metrics_pbx import PBXSeries

__all__ = [
    "AUTH_CHALLENGES",
    "FALLBACK_CAUSES",
    "LATENCY_BUCKETS",
    "RECONCILE_OPS",
    "STORE_BUCKETS",
    "Metrics",
    "exported_reason",
]

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 1.5, 1.75, 2.0, 2.5, 5.0)

#: Shared-store (Redis) operations take a fraction of a millisecond on a healthy network; its
#: timeout is 0.25 s (StoreConfig.timeout), so the buckets stop there.
STORE_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25)

#: The writes a reconcile run makes against the PBX's action URLs.
RECONCILE_OPS = ("create", "update", "delete")

#: Answers with a challenge that are steps of a normal call, not failures: a request without
#: credentials (every Digest call starts with one) and a correct response on an expired nonce.
AUTH_CHALLENGES = ("missing", "stale")

# /metrics is read by more people than the logs: what it says about failures must not tell a
# guesser which usernames exist. The log line keeps the precise reason.
_EXPORTED_REASON = {"unknown_user": "bad_credentials"}


def exported_reason(reason: str) -> str:
    """An authentication failure's reason as metrics and spans show it: an unknown user and a
    wrong password are both ``bad_credentials``."""
    return _EXPORTED_REASON.get(reason, reason)


class Metrics:
    """The ivrhooks metric set, in a registry of its own (``metrics.registry``).

    Methods are cheap enough for the request path: labelled children are cached in dicts, so
    a repeat observation is a dict lookup and an increment, not a ``.labels()`` call.
    Label values should come from bounded sets (route names, actions, outcomes, reasons):
    every distinct value is a new time series. ``by_route=False`` drops the ``route`` label
    from the request series (``ServingConfig.route_label``): 10,000 routes make ~140,000
    latency series with it, 14 without.
    """

    def __init__(self, *, by_route: bool = True) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.by_route = by_route
        self._request_series = _RequestSeries(by_route)
        r.register(self._request_series)
        r.register(_DroppedLogLines())
        self.pbx = PBXSeries(r)
        """The PBX REST client's series: requests, latency, retries, 429s, logins."""
        self.caches = CacheSeries(r)  # handlers' caches (app.cache): ivrhooks_cache_events
        self.events = EventSeries(r)  # PortSIP's event webhooks: ivrhooks_events_total
        Info(
            "ivrhooks_build",
            "The running ivrhooks: its version and the Python that runs it (always 1).",
            registry=r,
        ).info({"version": __version__, "python": platform.python_version()})
        self._store_latency = Histogram(
            "ivrhooks_store_duration_seconds",
            "Time the shared store (Redis) took per operation, failures included.",
            ("op",),
            buckets=STORE_BUCKETS,
            registry=r,
        )
        self._fallbacks = Counter(
            "ivrhooks_fallbacks",
            "Requests answered with the fallback decision, by cause.",
            ("cause",),
            registry=r,
        )
        self._auth_failures = Counter(
            "ivrhooks_auth_failures",
            "Action-URL requests refused by authentication, by reason (an unknown user and a "
            "wrong password are both bad_credentials).",
            ("reason",),
            registry=r,
        )
        self._auth_challenges = Counter(
            "ivrhooks_auth_challenges",
            "Action-URL requests answered with a challenge as a step of a normal call: no "
            "credentials yet (missing) or a correct response on an expired nonce (stale).",
            ("reason",),
            registry=r,
        )
        self._reconcile_runs = Counter(
            "ivrhooks_reconcile_runs",
            "Reconcile runs against the PBX, by result.",
            ("result",),
            registry=r,
        )
        self._reconcile_writes = Counter(
            "ivrhooks_reconcile_writes",
            "Action-URL writes made on the PBX by reconcile, by operation.",
            ("op",),
            registry=r,
        )
        self._drift = Counter(
            "ivrhooks_reconcile_drift",
            "Registered action URLs found changed on the PBX by hand.",
            registry=r,
        )
        self._store_errors = Counter(
            "ivrhooks_store_errors",
            "Operations the shared store (Redis) failed or did not answer in time, by operation.",
            ("op",),
            registry=r,
        )
        self._store_fallbacks = Counter(
            "ivrhooks_store_fallbacks",
            "Operations answered from this process's memory because the shared store failed.",
            ("op",),
            registry=r,
        )
        self._registrar = Gauge(
            "ivrhooks_registrar",
            "1 while this replica holds the registrar lease (it alone writes the registration).",
            registry=r,
        )
        self._generation = Gauge(
            "ivrhooks_generation",
            "This replica's generation: the order of its desired state among the versions "
            "registering (the highest writes; IVRHOOKS_GENERATION sets it).",
            registry=r,
        )
        self._auth_children: dict[str, Counter] = {
            "bad_credentials": self._auth_failures.labels("bad_credentials")
        }
        self._challenge_children = {c: self._auth_challenges.labels(c) for c in AUTH_CHALLENGES}
        self._run_children: dict[str, Counter] = {}
        # Fixed label sets are created up front so they are exported as 0 before the first
        # event: rate() and alerts on a series that does not exist yet see nothing.
        self._fallback_children: dict[str, Counter] = {
            c: self._fallbacks.labels(c) for c in FALLBACK_CAUSES
        }
        self._write_children = {op: self._reconcile_writes.labels(op) for op in RECONCILE_OPS}

    def observe_request(self, route: str, action: str, outcome: str, latency_s: float) -> None:
        """Count one answered request and record how long it took (seconds)."""
        series = self._request_series
        if not series.by_route:
            route = ""
        key = (route, action, outcome)
        counts = series.counts
        counts[key] = counts.get(key, 0) + 1
        histogram = series.histograms.get(route)
        if histogram is None:
            histogram = series.histograms[route] = [0.0] * (len(LATENCY_BUCKETS) + 2)
        histogram[bisect_left(LATENCY_BUCKETS, latency_s)] += 1  # the first bucket with le >= x
        histogram[-1] += latency_s

    def fallback(self, cause: str) -> None:
        """Count one fallback answer; ``cause`` is one of :data:`FALLBACK_CAUSES`."""
        child = self._fallback_children.get(cause)
        if child is None:
            raise InvalidArgumentError(
                f"fallback cause {cause!r} is not one of {', '.join(FALLBACK_CAUSES)}"
            )
        child.inc()

    def auth_failure(self, reason: str) -> None:
        """Count one request refused by authentication (``reason`` as the verifier said it)."""
        child = self._auth_children.get(reason)
        if child is None:
            exported = exported_reason(reason)
            child = self._auth_children[reason] = self._auth_failures.labels(exported)
        child.inc()

    def auth_challenge(self, reason: str) -> None:
        """Count one challenge answered as a normal step; ``reason`` is one of
        :data:`AUTH_CHALLENGES`."""
        child = self._challenge_children.get(reason)
        if child is None:
            raise InvalidArgumentError(
                f"challenge {reason!r} is not one of {', '.join(AUTH_CHALLENGES)}"
            )
        child.inc()

    def registrar(self, holding: bool) -> None:
        """Whether this replica holds the registrar lease."""
        self._registrar.set(1 if holding else 0)

    def generation(self, number: int) -> None:
        """This replica's generation number."""
        self._generation.set(number)

    def store_error(self, op: str) -> None:
        """Count one failed shared-store operation."""
        self._store_errors.labels(op).inc()

    def store_fallback(self, op: str) -> None:
        """Count one operation answered from memory while the shared store failed."""
        self._store_fallbacks.labels(op).inc()

    def store_latency(self, op: str, seconds: float) -> None:
        """Record how long one shared-store operation took."""
        self._store_latency.labels(op).observe(seconds)

    def reconcile(self, result: str, creates: int, updates: int, deletes: int, drift: int) -> None:
        """Record one reconcile run: its result and the writes and drift it found."""
        counts = {"creates": creates, "updates": updates, "deletes": deletes, "drift": drift}
        for name, value in counts.items():
            # Check everything before touching a counter: a bad call records nothing.
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise InvalidArgumentError(f"{name} must be a non-negative int, got {value!r}")
        run = self._run_children.get(result)
        if run is None:
            run = self._run_children[result] = self._reconcile_runs.labels(result)
        run.inc()
        for op, value in zip(RECONCILE_OPS, (creates, updates, deletes), strict=True):
            if value:
                self._write_children[op].inc(value)
        if drift:
            self._drift.inc(drift)


_BUCKET_LABELS = (*(str(float(bound)) for bound in LATENCY_BUCKETS), "+Inf")


class _RequestSeries(Collector):
    """Request counts and latency histograms as plain numbers, exported when scraped.

    Observed on the request path, which runs in the event loop's one thread, so no lock is
    needed; prometheus_client's per-child locks cost more than the rest of an observation
    (three locked increments per request).
    """

    def __init__(self, by_route: bool = True) -> None:
        self.by_route = by_route
        """Whether the series carry a ``route`` label; without, every route is counted as ``""``
        and exported without the label."""
        self.counts: dict[tuple[str, str, str], int] = {}
        #: route -> one count per bucket, then the +Inf overflow count, then the sum of seconds.
        self.histograms: dict[str, list[float]] = {}

    def collect(self) -> Iterator[Metric]:
        by_route = self.by_route
        requests = CounterMetricFamily(
            "ivrhooks_requests",
            "Action-URL requests answered, by route, decision action and outcome.",
            labels=("route", "action", "outcome") if by_route else ("action", "outcome"),
        )
        for key, count in list(self.counts.items()):
            requests.add_metric(key if by_route else key[1:], count)
        yield requests
        latency = HistogramMetricFamily(
            "ivrhooks_request_latency_seconds",
            "Time from receiving an action-URL request to sending the decision.",
            labels=("route",) if by_route else (),
        )
        for route, histogram in list(self.histograms.items()):
            cumulative = 0.0
            buckets: list[tuple[str, float]] = []
            for bound, in_bucket in zip(_BUCKET_LABELS, histogram, strict=False):
                cumulative += in_bucket
                buckets.append((bound, cumulative))
            latency.add_metric((route,) if by_route else (), buckets, sum_value=histogram[-1])
        yield latency


class _DroppedLogLines(Collector):
    """Log lines the buffered writer dropped because stderr did not keep up (process-wide:
    ``ivrhooks run`` has one writer, :mod:`ivrhooks.logwriter`). Anything above 0 means lines
    are missing from the log; the service itself kept answering."""

    def collect(self) -> Iterator[Metric]:
        family = CounterMetricFamily(
            "ivrhooks_log_lines_dropped",
            "Log lines dropped because the log stream (stderr) did not keep up.",
        )
        family.add_metric((), dropped_lines())
        yield family
