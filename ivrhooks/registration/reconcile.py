"""One reconcile pass: resolve receptionists, read their action URLs, plan, apply.

Routes -> desired action URLs (``desired``) -> plan against the PBX (``plan``) -> apply
(``apply``): this module is the thin I/O loop around the pure steps.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass

from ivrhooks.errors import RegistrationConflictError
from ivrhooks.pbx import PBXClient
from ivrhooks.registration.apply import DEFAULT_CONCURRENCY, Applied, apply_plans
from ivrhooks.registration.desired import DesiredUrl
from ivrhooks.registration.owner import PRODUCTION, Owner
from ivrhooks.registration.plan import Delete, Plan, owned, plan_receptionist
from ivrhooks.registration.resolve import resolve_receptionists
from ivrhooks.schema.models import ActionUrl

__all__ = ["Report", "fetch_plans", "reconcile", "unregister_plans"]

log = logging.getLogger("ivrhooks.registration")

State = Mapping[str, Mapping[str, DesiredUrl]]


@dataclass(frozen=True)
class Report:
    plans: tuple[Plan, ...]
    applied: Applied
    seconds: float

    @property
    def drift(self) -> int:
        """Writes the PBX needed (0: it already matched the app)."""
        return sum(plan.writes for plan in self.plans)


async def _existing(
    pbx: PBXClient, ids: Mapping[str, str], concurrency: int
) -> dict[str, list[ActionUrl]]:
    limit = asyncio.Semaphore(concurrency)

    async def one(ext: str) -> tuple[str, list[ActionUrl]]:
        async with limit:
            return ext, await pbx.action_urls.list(ids[ext])

    return dict(await asyncio.gather(*(one(ext) for ext in ids)))


async def fetch_plans(
    pbx: PBXClient,
    state: State,
    *,
    app_id: str,
    rewrite_hidden_secrets: bool = False,
    concurrency: int = DEFAULT_CONCURRENCY,
    log_findings: bool = True,
    owner: Owner = PRODUCTION,
) -> list[Plan]:
    """Read the PBX and plan each receptionist for the app ``app_id`` (no writes).

    Warnings and conflicts are logged unless ``log_findings`` is false (for a caller that shows
    them itself, such as ``ivrhooks plan`` and ``ivrhooks doctor``: said once, not twice)."""
    ids = await resolve_receptionists(pbx, list(state))
    existing = await _existing(pbx, ids, concurrency)
    plans = [
        plan_receptionist(
            ext,
            ids[ext],
            state[ext],
            existing[ext],
            app_id=app_id,
            rewrite_hidden_secrets=rewrite_hidden_secrets,
            owner=owner,
        )
        for ext in state
    ]
    for plan in plans if log_findings else ():
        for warning in plan.warnings:
            log.warning("%s", warning)
        for conflict in plan.conflicts:
            log.error("%s", conflict)
    return plans


async def reconcile(
    pbx: PBXClient,
    state: State,
    *,
    app_id: str,
    rewrite_hidden_secrets: bool = False,
    concurrency: int = DEFAULT_CONCURRENCY,
    owner: Owner = PRODUCTION,
) -> Report:
    """Make the PBX match ``state``; an unchanged PBX costs reads only, zero writes.

    Raises :class:`RegistrationConflictError`, writing nothing, when another app's entries
    would answer the same input on the same receptionist."""
    started = time.monotonic()
    plans = await fetch_plans(
        pbx,
        state,
        app_id=app_id,
        rewrite_hidden_secrets=rewrite_hidden_secrets,
        concurrency=concurrency,
        owner=owner,
    )
    conflicts = [c for plan in plans for c in plan.conflicts]
    if conflicts:
        raise RegistrationConflictError(conflicts)
    applied = await apply_plans(pbx, plans, concurrency=concurrency)
    return Report(tuple(plans), applied, time.monotonic() - started)


async def unregister_plans(
    pbx: PBXClient,
    state: State,
    *,
    app_id: str,
    concurrency: int = DEFAULT_CONCURRENCY,
    owner: Owner = PRODUCTION,
) -> list[Plan]:
    """Plans that delete every entry of this app (and the 0.1-named ones it would adopt) from
    the receptionists of ``state``; other apps' entries and hand-made ones are left alone.
    ``owner`` says which are this app's (a dev session's entries, with a dev owner)."""
    ids = await resolve_receptionists(pbx, list(state))
    existing = await _existing(pbx, ids, concurrency)
    return [
        Plan(
            ext,
            ids[ext],
            deletes=tuple(
                Delete(e.id, str(e.name), "unregister")
                for e in owned(state[ext], existing[ext], app_id=app_id, owner=owner)
            ),
        )
        for ext in state
    ]
