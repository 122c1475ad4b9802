"""The fake PBX: PortSIP's Virtual Receptionist REST API and its action-URL calls, in-process.

A product of its own: the embedded PBX of ``ivrhooks run`` and ``ivrhooks dev``, the server of
``ivrhooks fake-pbx``, and the test double users get from ``ivrhooks.testing``. Like a real PBX it
has both HTTP edges: it serves a REST API (Starlette) and places calls (httpx), and after each
call posts its CDR and extension events to the tenant's event URLs (:mod:`.webhooks`).
See :class:`~ivrhooks.fakepbx.pbx.FakePBX`.

The package's face is lazy, as ``ivrhooks``'s is: each name below is imported from its module
the first time it is used, so ``ivrhooks call`` (which only talks to a fake PBX in another
process, :mod:`.remote`) never loads the PBX itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ivrhooks import _lazy_face

if TYPE_CHECKING:
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

#: Where each public name lives.
_HOMES = {
    "DEFAULT_CAPABILITIES": "ivrhooks.fakepbx.pbx",
    "DEFAULT_PASSWORD": "ivrhooks.fakepbx.pbx",
    "DEFAULT_PIN": "ivrhooks.fakepbx.pbx",
    "DEFAULT_ROLE": "ivrhooks.fakepbx.pbx",
    "DEFAULT_USERNAME": "ivrhooks.fakepbx.pbx",
    "CallOutcome": "ivrhooks.fakepbx.webhooks",
    "Counters": "ivrhooks.fakepbx.state",
    "DialResult": "ivrhooks.fakepbx.dial",
    "EventFaults": "ivrhooks.fakepbx.webhooks",
    "Extension": "ivrhooks.fakepbx.webhooks",
    "FakePBX": "ivrhooks.fakepbx.pbx",
    "Faults": "ivrhooks.fakepbx.state",
    "SentEvent": "ivrhooks.fakepbx.webhooks",
}

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


__getattr__, __dir__ = _lazy_face(__name__, globals(), _HOMES)
