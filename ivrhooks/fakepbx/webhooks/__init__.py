"""The fake PBX's event webhooks: the tenant's event URLs (``/api/tenant``), how each call ends,
and the CDR and extension events it posts, as PortSIP documents them (and, where it does not,
as the fake chooses: each module says which is which)."""

from __future__ import annotations

from ivrhooks.fakepbx.webhooks.delivery import DEFAULT_RETRY_WAITS, SentEvent
from ivrhooks.fakepbx.webhooks.faults import EventFaults
from ivrhooks.fakepbx.webhooks.hub import Webhooks
from ivrhooks.fakepbx.webhooks.outcome import ANSWERING, Answering, CallOutcome, Extension

__all__ = [
    "ANSWERING",
    "DEFAULT_RETRY_WAITS",
    "Answering",
    "CallOutcome",
    "EventFaults",
    "Extension",
    "SentEvent",
    "Webhooks",
]
