"""Self-registration: the app writes its own action URLs onto the PBX's receptionists.

Manifest -> desired action URLs (:mod:`.desired`) -> a pure plan against what the PBX holds
(:mod:`.plan`) -> writes with bounded concurrency (:mod:`.apply`), repeated by a background
service (:mod:`.service`). See docs/registration.md for the behaviour and its decisions.
"""

from __future__ import annotations

from ivrhooks.errors import ApplyError, RegistrationError, UnknownReceptionistError
from ivrhooks.registration.desired import MANAGED_PREFIX, desired_state
from ivrhooks.registration.plan import Plan
from ivrhooks.registration.reconcile import Report, fetch_plans, reconcile
from ivrhooks.registration.service import Registration

__all__ = [
    "MANAGED_PREFIX",
    "ApplyError",
    "Plan",
    "Registration",
    "RegistrationError",
    "Report",
    "UnknownReceptionistError",
    "desired_state",
    "fetch_plans",
    "reconcile",
]
