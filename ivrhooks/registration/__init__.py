"""Self-registration: the app writes its own action URLs onto the PBX's receptionists.

Routes -> desired action URLs (:mod:`.desired`) -> a pure plan against what the PBX holds
(:mod:`.plan`) -> writes with bounded concurrency (:mod:`.apply`), repeated by a background
service (:mod:`.service`). See docs/registration.md for the behaviour and its decisions.
"""

from __future__ import annotations

from ivrhooks.registration.apply import DEFAULT_CONCURRENCY, Applied, apply_plans
from ivrhooks.registration.desired import (
    MANAGED_PREFIX,
    DesiredUrl,
    desired_state,
    entry_name,
    is_managed,
)
from ivrhooks.registration.errors import ApplyError, RegistrationError, UnknownReceptionistError
from ivrhooks.registration.plan import Delete, Plan, Update, changed_fields, plan_receptionist
from ivrhooks.registration.reconcile import Report, fetch_plans, reconcile, unregister_plans
from ivrhooks.registration.resolve import resolve_receptionists
from ivrhooks.registration.service import Registration, client_for, require_pbx

__all__ = [
    "DEFAULT_CONCURRENCY",
    "MANAGED_PREFIX",
    "Applied",
    "ApplyError",
    "Delete",
    "DesiredUrl",
    "Plan",
    "Registration",
    "RegistrationError",
    "Report",
    "UnknownReceptionistError",
    "Update",
    "apply_plans",
    "changed_fields",
    "client_for",
    "desired_state",
    "entry_name",
    "fetch_plans",
    "is_managed",
    "plan_receptionist",
    "reconcile",
    "require_pbx",
    "resolve_receptionists",
    "unregister_plans",
]
