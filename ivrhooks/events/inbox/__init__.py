"""The event inbox: PortSIP's CDR and extension events, stored between the endpoint that
accepts them and the handlers that process them.

PortSIP sends each event at least once, unordered, retries anything but a 200 and may disable
delivery when errors persist (webhook-notifications/receiving-events-via-a-webhook.md). Its
advice, as Stripe's and Telnyx's for their webhooks: record the event, answer fast, process it
in the background, idempotently. The endpoint calls :meth:`Inbox.accept` (dedup by digest, a
bounded backlog: full or failing, it raises and the endpoint answers 503 so the PBX retries)
and answers 200; :meth:`Inbox.run` hands the events to the handlers, retrying failures with
backoff, keeping those that never succeed as dead (``ivrhooks events dead|retry``).

:func:`open_inbox` picks the implementation: Redis (a stream read by a consumer group, shared by
every replica) when ``IVRHOOKS_REDIS_URL`` is set, this process's memory otherwise.
"""

from __future__ import annotations

from ivrhooks.conf.events import EventsConfig
from ivrhooks.errors import InboxFullError, InboxUnavailableError
from ivrhooks.events.inbox.base import (
    DeadDelivery,
    Delivery,
    Handle,
    Inbox,
    Report,
    ReportEvent,
    Retries,
)
from ivrhooks.events.inbox.memory import MemoryInbox

__all__ = [
    "DeadDelivery",
    "Delivery",
    "Handle",
    "Inbox",
    "InboxFullError",
    "InboxUnavailableError",
    "MemoryInbox",
    "Report",
    "ReportEvent",
    "Retries",
    "open_inbox",
]


def open_inbox(
    config: EventsConfig,
    *,
    redis_url: str | None,
    app_id: str,
    connect_timeout: float = 0.25,
    timeout: float = 0.25,
    max_connections: int = 32,
    report: Report | None = None,
    retries: Retries | None = None,
) -> Inbox:
    """The inbox for a configuration: Redis when ``redis_url`` is set (keys under
    ``ivrhooks:<app_id>:events:``; the timeouts and pool size as ``StoreConfig``'s), this
    process's memory otherwise. ``report(event)`` hears each event's fate (see
    :data:`ReportEvent`): the app counts them in its metrics."""
    if not redis_url:
        return MemoryInbox(config, report=report, retries=retries)
    from ivrhooks.events.inbox.redis import RedisInbox  # the optional extra: only when used

    return RedisInbox(
        config,
        redis_url,
        app_id=app_id,
        connect_timeout=connect_timeout,
        timeout=timeout,
        max_connections=max_connections,
        report=report,
        retries=retries,
    )
