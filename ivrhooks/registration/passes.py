"""One pass of the registration service: what it writes, and what it runs inside.

A pass reconciles the PBX's action URLs with the app (and, with
``IVRHOOKS_REGISTER_EVENTS=true``, the tenant's event URLs), within its time budget
(:mod:`.budget`), inside a tracing span, while the registrar lease is renewed every ``tick``
(:mod:`.registrar`). When the lease is lost mid-pass another replica is the registrar by then:
the pass is stopped and :func:`run_pass` answers ``None``. Every other failure is raised to the
service's loop (:mod:`.service`), which decides when to try again.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Coroutine
from typing import Any

from ivrhooks.errors import StoreError
from ivrhooks.observe.tracing import NO_TRACING
from ivrhooks.pbx.client import PBXClient
from ivrhooks.registration.budget import pass_budget, within_budget
from ivrhooks.registration.events import EventUrlKeeper
from ivrhooks.registration.job import RegistrationJob
from ivrhooks.registration.reconcile import Report
from ivrhooks.registration.registrar import Registrar
from ivrhooks.runtime import Runtime

__all__ = ["run_pass"]


class _LeaseLostError(Exception):
    """This replica stopped holding the registrar lease in the middle of a pass."""


async def run_pass(
    runtime: Runtime,
    job: RegistrationJob,
    client: PBXClient,
    *,
    registrar: Registrar,
    events: EventUrlKeeper,
    tick: float | None,
    budget: float | None,
    rechecking: bool,
    synced_before: bool,
) -> Report | None:
    """One pass, or ``None`` when the lease was lost during it. ``budget`` overrides
    :func:`.budget.pass_budget`; ``synced_before``: an earlier pass succeeded, so writes now
    repair drift."""
    work = _reconcile(runtime, job, client, events, rechecking, synced_before)
    try:
        return await _traced(
            runtime,
            _holding(registrar, tick, within_budget(work, budget or pass_budget(job))),
            rechecking,
        )
    except _LeaseLostError:
        return None


async def _traced(runtime: Runtime, work: Coroutine[Any, Any, Report], rechecking: bool) -> Report:
    """``work`` (one pass) inside a span, current while it runs: the PBX calls it makes are
    its children. The span says what the pass wrote; its failure, by type."""
    tracing = runtime.tracing if runtime.tracing is not None else NO_TRACING
    attributes = {"ivrhooks.registration.rechecking": rechecking}
    with tracing.span("ivrhooks registration", attributes=attributes) as span:
        report = await work
        applied = report.applied
        span.set("ivrhooks.registration.receptionists", len(report.plans))
        span.set("ivrhooks.registration.creates", applied.created)
        span.set("ivrhooks.registration.updates", applied.updated)
        span.set("ivrhooks.registration.deletes", applied.deleted)
        span.set("ivrhooks.registration.drift", report.drift)
        return report


async def _holding(
    registrar: Registrar, tick: float | None, work: Coroutine[Any, Any, Report]
) -> Report:
    """Run a pass while renewing the lease every ``tick``; a pass outlasting a lost lease is
    stopped (another replica is the registrar by then), raising ``_LeaseLostError``."""
    if tick is None:
        return await work
    task = asyncio.ensure_future(work)
    try:
        while True:
            done, _ = await asyncio.wait({task}, timeout=tick)
            if done:
                return task.result()
            try:
                still = await registrar.role() == "registrar"
            except StoreError:
                still = False
            if not still:
                raise _LeaseLostError
    finally:
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                async with asyncio.timeout(5.0):
                    await asyncio.shield(task)


async def _reconcile(
    runtime: Runtime,
    job: RegistrationJob,
    client: PBXClient,
    events: EventUrlKeeper,
    rechecking: bool,
    synced_before: bool,
) -> Report:
    """One reconcile; while it repairs drift after the first sync, the app is not ready."""
    started = time.monotonic()
    # During a rotation, or when credentials were refused, rewrite secrets the PBX does not
    # show us (plan.py).
    plans = await job.plans(client, rewrite_hidden_secrets=job.rotating or rechecking)
    drift = sum(plan.drift for plan in plans)
    if drift and synced_before and not any(plan.conflicts for plan in plans):
        # The PBX no longer holds what this app registered (credentials from another
        # secret, an edit in the portal, a restarted PBX): calls may be refused until fixed.
        # Secrets the PBX merely hides, rewritten to be sure, do not count: the app stays
        # ready while they are written.
        runtime.status.set(
            "re-registering",
            f"re-registering: {drift} action URL(s) on the PBX differ from this app's "
            "(credentials from another secret, or edited by hand)",
        )
    applied = await job.apply(client, plans)
    if runtime.config.events.register:
        await events.keep(client, job.manifest, fresh=job.rotating or rechecking)
    return Report(tuple(plans), applied, time.monotonic() - started)
