"""Metrics: observations land in the right series, in the text format; the app serves them at
``/metrics`` over real HTTP."""

from __future__ import annotations

import httpx
import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from ivrhooks import IVRHooks
from ivrhooks.observe.metrics import FALLBACK_CAUSES, LATENCY_BUCKETS, Metrics
from ivrhooks.testing import serve

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def _parse(text: str) -> Samples:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def _value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, frozenset(labels.items()))]


async def _scrape(metrics: Metrics) -> Samples:
    # The exposition the /metrics endpoint serves (tested over HTTP below), without a socket.
    return _parse(generate_latest(metrics.registry).decode())


async def test_requests_and_latency_are_served_in_the_text_format() -> None:
    m = Metrics()
    m.observe_request("sales", "call", "ok", 0.004)
    m.observe_request("sales", "call", "ok", 1.6)
    m.observe_request("sales", "repeat", "fallback", 2.2)
    m.observe_request("support", "hangup", "ok", 0.3)
    s = await _scrape(m)
    total = "ivrhooks_requests_total"
    assert _value(s, total, route="sales", action="call", outcome="ok") == 2
    assert _value(s, total, route="sales", action="repeat", outcome="fallback") == 1
    assert _value(s, total, route="support", action="hangup", outcome="ok") == 1
    hist = "ivrhooks_request_latency_seconds"
    assert _value(s, hist + "_count", route="sales") == 3
    assert _value(s, hist + "_sum", route="sales") == pytest.approx(3.804)
    # Cumulative buckets around the PBX's 2 s timeout.
    assert _value(s, hist + "_bucket", route="sales", le="0.005") == 1
    assert _value(s, hist + "_bucket", route="sales", le="1.5") == 1
    assert _value(s, hist + "_bucket", route="sales", le="1.75") == 2
    assert _value(s, hist + "_bucket", route="sales", le="2.0") == 2
    assert _value(s, hist + "_bucket", route="sales", le="2.5") == 3
    assert _value(s, hist + "_bucket", route="sales", le="+Inf") == 3
    les = sorted(
        float(dict(labels)["le"])
        for (name, labels) in s
        if name == hist + "_bucket" and dict(labels)["route"] == "support"
    )
    assert les == [*LATENCY_BUCKETS, float("inf")]


async def test_fallbacks_are_exported_at_zero_before_the_first_and_counted_after() -> None:
    m = Metrics()
    before = await _scrape(m)
    assert {c: _value(before, "ivrhooks_fallbacks_total", cause=c) for c in FALLBACK_CAUSES} == {
        c: 0 for c in FALLBACK_CAUSES
    }
    m.fallback("timeout")
    m.fallback("timeout")
    m.fallback("no_match")
    after = await _scrape(m)
    assert _value(after, "ivrhooks_fallbacks_total", cause="timeout") == 2
    assert _value(after, "ivrhooks_fallbacks_total", cause="no_match") == 1
    assert _value(after, "ivrhooks_fallbacks_total", cause="error") == 0


def test_an_unknown_fallback_cause_is_refused_and_counts_nothing() -> None:
    m = Metrics()
    with pytest.raises(ValueError, match=r"fallback cause 'slow' is not one of timeout, error"):
        m.fallback("slow")
    assert m.registry.get_sample_value("ivrhooks_fallbacks_total", {"cause": "slow"}) is None


async def test_auth_failures_by_reason_and_challenges_apart() -> None:
    m = Metrics()
    before = await _scrape(m)
    assert _value(before, "ivrhooks_auth_failures_total", reason="bad_credentials") == 0
    assert _value(before, "ivrhooks_auth_challenges_total", reason="missing") == 0
    for reason in ("bad_credentials", "unknown_user", "bad_nonce"):
        m.auth_failure(reason)
    for reason in ("missing", "missing", "stale"):
        m.auth_challenge(reason)
    s = await _scrape(m)
    # An unknown user and a wrong password are one series: /metrics is no username oracle.
    assert _value(s, "ivrhooks_auth_failures_total", reason="bad_credentials") == 2
    assert ("ivrhooks_auth_failures_total", frozenset({("reason", "unknown_user")})) not in s
    assert _value(s, "ivrhooks_auth_failures_total", reason="bad_nonce") == 1
    assert _value(s, "ivrhooks_auth_challenges_total", reason="missing") == 2
    assert _value(s, "ivrhooks_auth_challenges_total", reason="stale") == 1
    with pytest.raises(ValueError, match="not one of missing, stale"):
        m.auth_challenge("bad_credentials")


async def test_reconcile_runs_writes_and_drift() -> None:
    m = Metrics()
    m.reconcile("ok", creates=3, updates=1, deletes=0, drift=1)
    m.reconcile("ok", creates=0, updates=0, deletes=2, drift=0)
    m.reconcile("error", creates=0, updates=0, deletes=0, drift=0)
    s = await _scrape(m)
    assert _value(s, "ivrhooks_reconcile_runs_total", result="ok") == 2
    assert _value(s, "ivrhooks_reconcile_runs_total", result="error") == 1
    assert _value(s, "ivrhooks_reconcile_writes_total", op="create") == 3
    assert _value(s, "ivrhooks_reconcile_writes_total", op="update") == 1
    assert _value(s, "ivrhooks_reconcile_writes_total", op="delete") == 2
    assert _value(s, "ivrhooks_reconcile_drift_total") == 1


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("creates", {"creates": -1, "updates": 0, "deletes": 0, "drift": 0}),
        ("updates", {"creates": 1, "updates": 1.5, "deletes": 0, "drift": 0}),
        ("deletes", {"creates": 1, "updates": 0, "deletes": True, "drift": 0}),
        ("drift", {"creates": 1, "updates": 0, "deletes": 0, "drift": "2"}),
    ],
    ids=["negative", "float", "bool", "str"],
)
def test_a_bad_reconcile_call_names_the_field_and_records_nothing(
    field: str, kwargs: dict[str, object]
) -> None:
    m = Metrics()
    with pytest.raises(ValueError, match=f"^{field} must be a non-negative int"):
        m.reconcile("ok", **kwargs)  # type: ignore[arg-type]
    get = m.registry.get_sample_value
    assert get("ivrhooks_reconcile_runs_total", {"result": "ok"}) is None
    assert get("ivrhooks_reconcile_writes_total", {"op": "create"}) == 0
    assert get("ivrhooks_reconcile_drift_total") == 0


def test_two_metric_sets_in_one_process_do_not_share_counts() -> None:
    a, b = Metrics(), Metrics()
    a.fallback("error")
    assert a.registry.get_sample_value("ivrhooks_fallbacks_total", {"cause": "error"}) == 1
    assert b.registry.get_sample_value("ivrhooks_fallbacks_total", {"cause": "error"}) == 0


def test_request_series_accumulate_and_auth_children_are_cached() -> None:
    m = Metrics()
    m.observe_request("sales", "call", "ok", 0.01)
    m.auth_failure("missing")
    auth = m._auth_children["missing"]
    m.observe_request("sales", "call", "ok", 0.02)
    m.observe_request("sales", "call", "ok", 9.0)
    m.auth_failure("missing")
    assert m._auth_children["missing"] is auth
    latency = "ivrhooks_request_latency_seconds"
    sample = m.registry.get_sample_value
    assert sample(f"{latency}_bucket", {"route": "sales", "le": "0.01"}) == 1
    assert sample(f"{latency}_bucket", {"route": "sales", "le": "0.025"}) == 2
    assert sample(f"{latency}_bucket", {"route": "sales", "le": "5.0"}) == 2
    assert sample(f"{latency}_bucket", {"route": "sales", "le": "+Inf"}) == 3
    assert sample(f"{latency}_count", {"route": "sales"}) == 3
    assert sample(f"{latency}_sum", {"route": "sales"}) == pytest.approx(9.03)
    assert (
        m.registry.get_sample_value(
            "ivrhooks_requests_total", {"route": "sales", "action": "call", "outcome": "ok"}
        )
        == 3
    )


async def test_the_app_serves_its_metrics_on_get_and_head_only() -> None:
    app = IVRHooks(["8000"], env=False)
    app.metrics.fallback("invalid")
    async with serve(app) as url, httpx.AsyncClient() as client:
        get = await client.get(url + "/metrics")
        head = await client.head(url + "/metrics")
        post = await client.post(url + "/metrics")
        odd = await client.get(url + "/metrics?%ff", headers=[(b"accept", b"text/plain; \xff")])
    assert get.status_code == 200
    assert get.headers["content-type"].startswith("text/plain")
    assert _value(_parse(get.text), "ivrhooks_fallbacks_total", cause="invalid") == 1
    assert head.status_code == 200
    assert head.content == b""
    assert (post.status_code, post.headers["allow"]) == (405, "GET, HEAD")
    assert odd.status_code == 200, "a query or header that is not UTF-8 is not a 500"


@pytest.mark.parametrize(
    ("environ", "labelled"),
    [({}, True), ({"IVRHOOKS_METRICS_ROUTE_LABEL": "false"}, False)],
    ids=["route-label-default", "IVRHOOKS_METRICS_ROUTE_LABEL=false"],
)
async def test_the_route_label_can_be_dropped_for_apps_with_many_routes(
    environ: dict[str, str], labelled: bool
) -> None:
    app = IVRHooks(["8000"], auth="none", allow_no_auth=True, env=environ)
    for n in range(3):
        app.dtmf(str(n), name=f"r{n}")(lambda req: None)
    server = app.build()
    for n in range(3):
        server.runtime.metrics.observe_request(f"r{n}", "call", "route", 0.004)
    s = await _scrape(server.runtime.metrics)
    requests = {
        dict(labels).get("route") for (name, labels) in s if name == "ivrhooks_requests_total"
    }
    buckets = [labels for (name, labels) in s if name == "ivrhooks_request_latency_seconds_bucket"]
    if labelled:
        assert requests == {"r0", "r1", "r2"}
        assert len(buckets) == 3 * (len(LATENCY_BUCKETS) + 1)
    else:
        assert requests == {None}
        assert _value(s, "ivrhooks_requests_total", action="call", outcome="route") == 3
        assert len(buckets) == len(LATENCY_BUCKETS) + 1
        assert _value(s, "ivrhooks_request_latency_seconds_count") == 3


async def test_build_info_names_the_version_and_python() -> None:
    import platform

    from ivrhooks import __version__

    s = await _scrape(Metrics())
    info = {
        "version": __version__,
        "python": platform.python_version(),
    }
    assert _value(s, "ivrhooks_build_info", **info) == 1


async def test_pbx_calls_are_counted_by_template_status_and_retries() -> None:
    m = Metrics()
    m.pbx.request("ivrs/{id}/action_urls", "GET", 200, 0.03, retries=2, rate_limited=1)
    m.pbx.request("ivrs/{id}/action_urls", "GET", None, 1.2, retries=0, rate_limited=0)
    m.pbx.login("login", True)
    s = await _scrape(m)
    endpoint = "ivrs/{id}/action_urls"
    total = "ivrhooks_pbx_requests_total"
    assert _value(s, total, endpoint=endpoint, method="GET", status="200") == 1
    assert _value(s, total, endpoint=endpoint, method="GET", status="error") == 1
    hist = "ivrhooks_pbx_request_duration_seconds"
    assert _value(s, hist + "_count", endpoint=endpoint, method="GET") == 2
    assert _value(s, "ivrhooks_pbx_retries_total", endpoint=endpoint) == 2
    assert _value(s, "ivrhooks_pbx_rate_limited_total", endpoint=endpoint) == 1
    assert _value(s, "ivrhooks_pbx_logins_total", kind="login", result="ok") == 1
    # Exported before the first one happens, so alerts on them see a series.
    assert _value(s, "ivrhooks_pbx_logins_total", kind="refresh", result="refused") == 0


async def test_cache_events_are_exported_at_zero_once_declared_and_counted() -> None:
    from ivrhooks.observe.metrics_cache import CACHE_EVENTS

    m = Metrics()
    m.caches.declare("managers")
    before = await _scrape(m)
    total = "ivrhooks_cache_events_total"
    assert {e: _value(before, total, cache="managers", event=e) for e in CACHE_EVENTS} == {
        e: 0 for e in CACHE_EVENTS
    }
    for event in ("hit", "hit", "miss", "stale", "background", "error", "dropped"):
        m.caches.event("managers", event)
    m.caches.event("accounts", "miss")  # a cache never declared is counted too
    s = await _scrape(m)
    assert _value(s, total, cache="managers", event="hit") == 2
    assert _value(s, total, cache="managers", event="miss") == 1
    assert _value(s, total, cache="managers", event="stale") == 1
    assert _value(s, total, cache="managers", event="background") == 1
    assert _value(s, total, cache="managers", event="error") == 1
    assert _value(s, total, cache="managers", event="dropped") == 1
    assert _value(s, total, cache="accounts", event="miss") == 1
    with pytest.raises(ValueError, match="cache event 'evicted' is not one of hit, miss"):
        m.caches.event("managers", "evicted")
