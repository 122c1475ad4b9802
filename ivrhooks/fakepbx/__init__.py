"""The fake PBX: PortSIP's Virtual Receptionist REST API and its action-URL calls, in-process.

A product of its own: the embedded PBX of ``ivrhooks run`` and ``ivrhooks dev``, the server of
``ivrhooks fake-pbx``, and the test double users get from ``ivrhooks.testing``. Like a real PBX it
has both HTTP edges: it serves a REST API (Starlette) and places calls (httpx).
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

__all__ = [
    "DEFAULT_CAPABILITIES",
    "DEFAULT_PASSWORD",
    "DEFAULT_PIN",
    "DEFAULT_ROLE",
    "DEFAULT_USERNAME",
    "Counters",
    "DialResult",
    "FakePBX",
    "Faults",
]
