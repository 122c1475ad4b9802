"""PortSIP's event webhooks' Prometheus series (part of :class:`ivrhooks.observe.metrics.Metrics`).

One counter, ``ivrhooks_events_total{outcome}``: what became of each event the PBX posted. The
inbox reports its own outcomes (accepted, duplicate, full, unavailable, handled, retried, dead,
claimed, dropped); the endpoint those it decides (``read``: an extension event read for presence
with no handler to store it for; ``unreadable``: a body that is no event); the dispatcher
``unknown_type``. Alert on ``dead`` and on ``full``/``unavailable`` (the PBX is being told to
retry).
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter

from ivrhooks.errors import InvalidArgumentError

__all__ = ["EVENT_OUTCOMES", "EventSeries"]

EVENT_OUTCOMES = (
    "accepted",
    "duplicate",
    "full",
    "unavailable",
    "handled",
    "retried",
    "dead",
    "claimed",
    "dropped",
    "read",
    "unreadable",
    "unknown_type",
    "decision_dropped",
)


class EventSeries:
    """Events by outcome; every series exists at 0 from the start."""

    def __init__(self, registry: CollectorRegistry) -> None:
        counter = Counter(
            "ivrhooks_events",
            "PortSIP's CDR and extension events, by outcome: accepted (stored), duplicate, "
            "full and unavailable (refused with 503: the PBX retries), handled, retried, dead, "
            "claimed (taken over from a stopped replica), dropped (pushed out of the dead "
            "list), read (presence only), unreadable (400), unknown_type, decision_dropped (a "
            "routing decision not recorded: too many writes waiting).",
            ("outcome",),
            registry=registry,
        )
        self._children = {outcome: counter.labels(outcome) for outcome in EVENT_OUTCOMES}

    def event(self, outcome: str) -> None:
        """Count one event; ``outcome`` is one of :data:`EVENT_OUTCOMES`."""
        child = self._children.get(outcome)
        if child is None:
            raise InvalidArgumentError(
                f"event outcome {outcome!r} is not one of {', '.join(EVENT_OUTCOMES)}"
            )
        child.inc()
