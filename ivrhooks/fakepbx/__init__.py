"""The fake PBX: PortSIP's Virtual Receptionist REST API and its action-URL calls, in-process.

A product of its own: the embedded PBX of ``ivrhooks run`` and ``ivrhooks dev``, the server of
``ivrhooks fake-pbx``, and the test double users get from ``ivrhooks.testing``. Like a real PBX it
has both HTTP edges: it serves a REST API (Starlette) and places calls (httpx), and after each
call posts its CDR and extension events to the tenant's event URLs (:mod:`.webhooks`).
See :class:`~ivrhooks.fakepbx.pbx.FakePBX`.
"""

from __future__ import annotations

from ivrhooks.fakepbx.dial import DialResult
from ivrhooks.fakepbx.pbx import (
    DEFAULT_CAPABILITIES,
    DEFAULT_PASSWORD,
    DEFAULT_PIN,
    DEFAULT_ROLE,
    DEFAULT_USERNAME,
    FakePBX,
)
from ivrhooks.fakepbx.state import Counters, Faults
from ivrhooks.fakepbx.webhooks import CallOutcome, EventFaults, Extension, SentEvent

__all__ = [
    "DEFAULT_CAPABILITIES",
    "DEFAULT_PASSWORD",
    "DEFAULT_PIN",
    "DEFAULT_ROLE",
    "DEFAULT_USERNAME",
    "CallOutcome",
    "Counters",
    "DialResult",
    "EventFaults",
    "Extension",
    "FakePBX",
    "Faults",
    "SentEvent",
]
