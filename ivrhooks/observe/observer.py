"""``Observer``: the one interface through which ivrhooks reports what it did.

Every event ivrhooks reports goes to one object, the app's observer: an action-URL request
answered or refused, a PBX REST call, a PBX login, a registration run, whether this replica holds
the registrar lease, a shared-store operation. The built-in observer keeps the Prometheus series
and writes the request log line; with a tracer provider configured, an OpenTelemetry observer puts
the same facts on the request's span. An application adds its own (Sentry, a StatsD client)::

    class StatsD(Observer):
        def answered(self, request, outcome, latency, scheme):
            statsd.timing("ivr.answer", latency * 1000, tags=[f"route:{request.route}"])

    app = IVRHooks(receptionists=["8000"], observers=[StatsD()])

Every method does nothing unless overridden, so a subclass names only what it wants. The
composition root decides once, at startup, who is called: with no observer added the endpoint
calls the built-in one directly, exactly as before; with some, one fan-out object calls each in
turn. Methods run on the event loop, inside the request (:meth:`answered`, :meth:`rejected`):
they must not block, and what they raise is logged and swallowed, never the caller's problem.

Privacy: :class:`~ivrhooks.types.ActionRequest` carries the caller's number and name. ivrhooks
puts neither in a metric, a span or a log line unmasked; an observer that forwards them is the
application's decision.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from ivrhooks.core.auth.verdict import Verdict
from ivrhooks.core.request import ActionRequest
from ivrhooks.core.runner import Outcome

# What the methods receive, importable from here with the interface itself.
__all__ = ["ActionRequest", "Observer", "Outcome", "PBXCall", "Verdict", "fan_out"]

log = logging.getLogger("ivrhooks")


@dataclass(frozen=True, slots=True)
class PBXCall:
    """One call of the PBX REST API, as the client made it (its retries included)."""

    method: str
    """``GET`` or ``POST``."""
    endpoint: str
    """The path template under the base URL, ids replaced: ``ivrs/{id}/action_urls``."""
    status: int | None
    """The final HTTP status; ``None`` when no answer came (a connection failure)."""
    seconds: float
    """From the first attempt to the final answer, waits between retries included."""
    retries: int = 0
    """Attempts after the first (a re-login after a 401 is not a retry)."""
    rate_limited: int = 0
    """429 answers among the attempts."""


class Observer:
    """Receives what ivrhooks did; every method does nothing unless a subclass overrides it."""

    def answered(
        self, request: ActionRequest, outcome: Outcome, latency: float, scheme: str
    ) -> None:
        """An action-URL request was answered (status 200): ``outcome`` says with what and why,
        ``latency`` is seconds from receipt to the decision sent, ``scheme`` the route's auth
        scheme (``basic``, ``digest``, ``bearer``, ``none``)."""

    def rejected(self, route: str, verdict: Verdict) -> None:
        """A request to ``route`` was refused by authentication (or challenged, as every Digest
        call starts): ``verdict.reason`` says why, ``verdict.status`` what was answered."""

    def pbx_request(self, call: PBXCall) -> None:
        """One PBX REST call finished (answered, or failed for good)."""

    def pbx_login(self, kind: str, ok: bool) -> None:
        """A login (``kind="login"``) or token refresh (``"refresh"``) went over the wire."""

    def reconciled(
        self, result: str, creates: int, updates: int, deletes: int, drift: int, seconds: float
    ) -> None:
        """A registration run ended: ``result`` is ``ok``, ``error`` or ``conflict``; the
        writes it made, the drift it repaired and how long it took."""

    def registrar(self, holding: bool) -> None:
        """Whether this replica holds the registrar lease (it alone writes the registration)."""

    def store_op(self, op: str, seconds: float, ok: bool) -> None:
        """One shared-store (Redis) operation: ``op`` (``get``, ``incr``, ``mark``, …), how
        long it took and whether it succeeded."""

    def store_fallback(self, op: str) -> None:
        """An operation answered from this process's memory because the shared store failed."""


class _FanOut(Observer):
    """Calls every observer in turn; one that raises is logged and the rest still run."""

    __slots__ = ("observers",)

    def __init__(self, observers: Sequence[Observer]) -> None:
        self.observers = tuple(observers)

    def answered(
        self, request: ActionRequest, outcome: Outcome, latency: float, scheme: str
    ) -> None:
        for observer in self.observers:
            try:
                observer.answered(request, outcome, latency, scheme)
            except Exception:
                _failed(observer, "answered")

    def rejected(self, route: str, verdict: Verdict) -> None:
        for observer in self.observers:
            try:
                observer.rejected(route, verdict)
            except Exception:
                _failed(observer, "rejected")

    def pbx_request(self, call: PBXCall) -> None:
        for observer in self.observers:
            try:
                observer.pbx_request(call)
            except Exception:
                _failed(observer, "pbx_request")

    def pbx_login(self, kind: str, ok: bool) -> None:
        for observer in self.observers:
            try:
                observer.pbx_login(kind, ok)
            except Exception:
                _failed(observer, "pbx_login")

    def reconciled(
        self, result: str, creates: int, updates: int, deletes: int, drift: int, seconds: float
    ) -> None:
        for observer in self.observers:
            try:
                observer.reconciled(result, creates, updates, deletes, drift, seconds)
            except Exception:
                _failed(observer, "reconciled")

    def registrar(self, holding: bool) -> None:
        for observer in self.observers:
            try:
                observer.registrar(holding)
            except Exception:
                _failed(observer, "registrar")

    def store_op(self, op: str, seconds: float, ok: bool) -> None:
        for observer in self.observers:
            try:
                observer.store_op(op, seconds, ok)
            except Exception:
                _failed(observer, "store_op")

    def store_fallback(self, op: str) -> None:
        for observer in self.observers:
            try:
                observer.store_fallback(op)
            except Exception:
                _failed(observer, "store_fallback")


def _failed(observer: Observer, method: str) -> None:
    log.exception("observer %s.%s raised", type(observer).__name__, method)


def fan_out(observers: Sequence[Observer]) -> Observer:
    """One observer that reports to each of ``observers``: the only one itself when there is
    one (so the default path costs one call, as before), a do-nothing one when there is none."""
    if not observers:
        return Observer()
    if len(observers) == 1:
        return observers[0]
    return _FanOut(observers)
