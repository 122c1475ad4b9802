"""What the endpoint reports after each request: one log line and the Prometheus series."""

from __future__ import annotations

import logging
from collections.abc import Callable

from ivrhooks.auth.verdict import Verdict
from ivrhooks.logs import log_request
from ivrhooks.metrics import AUTH_CHALLENGES, Metrics
from ivrhooks.runner import Outcome
from ivrhooks.types import ActionRequest

__all__ = ["RequestObserver"]

request_logger = logging.getLogger("ivrhooks.request")

# Credentials that parse but do not open this route: what the PBX sends after its entries were
# written with another secret.
_REFUSED = frozenset({"bad_credentials", "unknown_user"})
CHALLENGES = frozenset(AUTH_CHALLENGES)


class RequestObserver:
    """Reports answered and rejected requests to the log and to ``metrics``."""

    def __init__(self, metrics: Metrics, *, on_refused: Callable[[], None] | None = None) -> None:
        self.metrics = metrics
        # Called when credentials were presented and refused: the PBX may hold stale ones.
        self.on_refused = on_refused

    def answered(self, request: ActionRequest, outcome: Outcome, latency: float, auth: str) -> None:
        decision = outcome.decision
        self.metrics.observe_request(request.route, decision.action, outcome.handler, latency)
        if outcome.cause is not None:
            self.metrics.fallback(outcome.cause)
        log_request(
            request_logger,
            session_id=request.session_id,
            receptionist=request.to,
            route=request.route,
            kind=request.kind,
            action=decision.action,
            destination=decision.destination,
            auth=auth,
            latency_ms=latency * 1000.0,
            deadline_hit=outcome.deadline_hit,
            fallback_cause=outcome.cause,
            caller=request.caller,
            status=200,
        )

    def rejected(self, verdict: Verdict) -> None:
        if verdict.reason in CHALLENGES:
            self.metrics.auth_challenge(verdict.reason)
        else:
            self.metrics.auth_failure(verdict.reason)
            if self.on_refused is not None and verdict.reason in _REFUSED:
                self.on_refused()
