"""The built-in observer: one log line per request and the Prometheus series.

Every app has it; observers an application adds (and the OpenTelemetry one, when tracing is on)
are called after it (see :mod:`ivrhooks.observer`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from ivrhooks.core.auth.verdict import Verdict
from ivrhooks.core.request import ActionRequest
from ivrhooks.core.runner import Outcome
from ivrhooks.observe.logs import log_request
from ivrhooks.observe.metrics import AUTH_CHALLENGES, Metrics
from ivrhooks.observe.observer import Observer, PBXCall

__all__ = ["RequestObserver"]

request_logger = logging.getLogger("ivrhooks.request")

# Credentials that parse but do not open this route: what the PBX sends after its entries were
# written with another secret.
_REFUSED = frozenset({"bad_credentials", "unknown_user"})
CHALLENGES = frozenset(AUTH_CHALLENGES)


class RequestObserver(Observer):
    """Reports to the log (the request line) and to ``metrics``.

    ``trace_ids``, given when tracing is on, returns the current span's trace and span ids for
    the request line (``None``: no span).
    """

    def __init__(
        self,
        metrics: Metrics,
        *,
        on_refused: Callable[[], None] | None = None,
        trace_ids: Callable[[], tuple[str, str] | None] | None = None,
    ) -> None:
        self.metrics = metrics
        # Called when credentials were presented and refused: the PBX may hold stale ones.
        self.on_refused = on_refused
        self.trace_ids = trace_ids

    def answered(
        self, request: ActionRequest, outcome: Outcome, latency: float, scheme: str
    ) -> None:
        decision = outcome.decision
        self.metrics.observe_request(request.route, decision.action, outcome.handler, latency)
        if outcome.cause is not None:
            self.metrics.fallback(outcome.cause)
        ids = None
        if self.trace_ids is not None and request_logger.isEnabledFor(logging.INFO):
            ids = self.trace_ids()
        log_request(
            request_logger,
            session_id=request.session_id,
            receptionist=request.to,
            route=request.route,
            kind=request.kind,
            action=decision.action,
            destination=decision.destination,
            auth=scheme,
            latency_ms=latency * 1000.0,
            deadline_hit=outcome.deadline_hit,
            fallback_cause=outcome.cause,
            caller=request.caller,
            status=200,
            trace=ids,
        )

    def rejected(self, route: str, verdict: Verdict) -> None:
        if verdict.reason in CHALLENGES:
            self.metrics.auth_challenge(verdict.reason)
        else:
            self.metrics.auth_failure(verdict.reason)
            if self.on_refused is not None and verdict.reason in _REFUSED:
                self.on_refused()

    def pbx_request(self, call: PBXCall) -> None:
        self.metrics.pbx.request(
            call.endpoint, call.method, call.status, call.seconds, call.retries, call.rate_limited
        )

    def pbx_login(self, kind: str, ok: bool) -> None:
        self.metrics.pbx.login(kind, ok)

    def reconciled(
        self, result: str, creates: int, updates: int, deletes: int, drift: int, seconds: float
    ) -> None:
        self.metrics.reconcile(result, creates, updates, deletes, drift)

    def registrar(self, holding: bool) -> None:
        self.metrics.registrar(holding)

    def store_op(self, op: str, seconds: float, ok: bool) -> None:
        self.metrics.store_latency(op, seconds)
        if not ok:
            self.metrics.store_error(op)

    def store_fallback(self, op: str) -> None:
        self.metrics.store_fallback(op)
