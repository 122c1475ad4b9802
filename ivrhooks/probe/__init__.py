"""``ivrhooks probe``: learn what one PortSIP build does where its documents are silent.

The probe registers a catch-all action URL on a receptionist of its own, serves it, and asks
the operator for one call per step (:mod:`.steps`); each call's first request gets one
deliberate answer (``repeat``, ``call``, ``hangup``, a 500, a body that is not JSON, an answer
past ``request_timeout``) and the probe records what the PBX sends and does next. It writes a
report (:mod:`.report`) and a behaviour file the fake PBX replays
(:mod:`ivrhooks.fakepbx.behaviour`), and removes its entries when it ends, however it ends.
See docs/dev-loop.md, "Probe".
"""

from __future__ import annotations

from ivrhooks.probe.console import Console
from ivrhooks.probe.findings import FAKE_PBX, QUESTIONS, Finding
from ivrhooks.probe.report import Report
from ivrhooks.probe.run import Probe, ProbeOptions
from ivrhooks.probe.settings import ProbeEnvironment, read_environment
from ivrhooks.probe.steps import STEPS, Step, pick_steps

__all__ = [
    "FAKE_PBX",
    "QUESTIONS",
    "STEPS",
    "Console",
    "Finding",
    "Probe",
    "ProbeEnvironment",
    "ProbeOptions",
    "Report",
    "Step",
    "pick_steps",
    "read_environment",
]
