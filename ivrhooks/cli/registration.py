"""``ivrhooks plan|sync|unregister APP``: registration as one-shot commands.

``plan`` reads the PBX and prints the writes per receptionist (exit 0 in sync, 2 when changes
are pending), ``sync`` makes them once, ``unregister`` deletes every ``ivrhooks:`` entry of
the app's receptionists. All three need a configured PBX (``IVRHOOKS_PBX_URL`` and a login).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import click

from ivrhooks.cli.group import main
from ivrhooks.cli.loader import load_app
from ivrhooks.errors import PBXConnectionError, PBXLoginError
from ivrhooks.registration.job import RegistrationJob
from ivrhooks.registration.plan import Plan
from ivrhooks.schema.models import ActionUrlCreate, ActionUrlUpdate

__all__ = ["plan", "sync", "unregister"]

T = TypeVar("T")

#: ``plan`` exits with this when the PBX does not match the app (0 when it does).
PENDING = 2


def _masked(body: ActionUrlCreate | ActionUrlUpdate) -> dict[str, Any]:
    data = body.model_dump(mode="json", exclude_unset=True)
    for field in ("password", "token"):
        if data.get(field):
            data[field] = "***"
    return data


def plan_json(plans: list[Plan]) -> dict[str, Any]:
    """The machine-readable plan (``--json``); secrets masked."""
    return {
        "in_sync": all(p.in_sync for p in plans),
        "receptionists": [
            {
                "receptionist": p.receptionist,
                "ivr_id": p.ivr_id,
                "creates": [_masked(c) for c in p.creates],
                "updates": [
                    {
                        "id": u.id,
                        "name": u.name,
                        "changed": list(u.changed),
                        "body": _masked(u.body),
                    }
                    for u in p.updates
                ],
                "deletes": [{"id": d.id, "name": d.name, "reason": d.reason} for d in p.deletes],
                "unchanged": p.unchanged,
                "warnings": list(p.warnings),
                "conflicts": list(p.conflicts),
            }
            for p in plans
        ],
    }


def _echo_plan(plans: list[Plan]) -> None:
    for p in plans:
        state = "in sync" if p.in_sync else f"{p.writes} change(s)"
        click.echo(f"receptionist {p.receptionist} (id {p.ivr_id}): {state}")
        for c in p.creates:
            mask = c.dtmf_mask or c.caller_mask
            click.echo(f"  + create {c.name}  {c.type} {mask!r} -> {c.method} {c.url} ({c.auth})")
        for u in p.updates:
            click.echo(f"  ~ update {u.name} (id {u.id}): {', '.join(u.changed)}")
        for d in p.deletes:
            click.echo(f"  - delete {d.name} (id {d.id}): {d.reason}")
        for w in p.warnings:
            click.echo(f"  ! {w}")
        for conflict in p.conflicts:
            click.echo(f"  ! conflict: {conflict}")


def _run(app_spec: str, work: Callable[[RegistrationJob], Coroutine[Any, Any, T]]) -> T:
    # ivrhooks' own errors are mapped to one line by the command group (ivrhooks.cli).
    app = load_app(app_spec)
    config = app.configure()
    # Everything the app would start with is checked first (credential files included), so a
    # plan is also a check of the deployment before anything reaches the PBX; no server is
    # built for it.
    job = RegistrationJob.of(config, app.check(config))
    try:
        return asyncio.run(work(job))
    except (PBXConnectionError, PBXLoginError) as exc:
        # Say where the PBX was sought and which setting to change, not only what httpx said.
        raise click.ClickException(job.describe(exc)) from None


@main.command()
@click.argument("app_spec", metavar="APP")
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
def plan(app_spec: str, as_json: bool) -> None:
    """Show what registration would change on the PBX, without writing (exit 2: changes)."""

    async def work(job: RegistrationJob) -> list[Plan]:
        async with job.client() as pbx:
            return await job.plans(pbx, log_findings=False)  # printed below, with the plan

    plans = _run(app_spec, work)
    if as_json:
        click.echo(json.dumps(plan_json(plans), indent=2))
    else:
        _echo_plan(plans)
    if not all(p.in_sync for p in plans):
        raise SystemExit(PENDING)


@main.command()
@click.argument("app_spec", metavar="APP")
def sync(app_spec: str) -> None:
    """Make the PBX's action URLs match APP once, then exit."""

    async def work(job: RegistrationJob) -> None:
        async with job.client() as pbx:
            report = await job.reconcile(pbx)
        _echo_plan([p for p in report.plans if not p.in_sync])
        done = report.applied
        click.echo(
            f"in sync: {done.created} created, {done.updated} updated, {done.deleted} deleted "
            f"on {len(report.plans)} receptionist(s)"
        )

    _run(app_spec, work)


@main.command()
@click.argument("app_spec", metavar="APP")
def unregister(app_spec: str) -> None:
    """Delete APP's own action URLs from its receptionists (other apps' are left alone)."""

    async def work(job: RegistrationJob) -> None:
        async with job.client() as pbx:
            plans, done = await job.unregister(pbx)
        _echo_plan([p for p in plans if not p.in_sync])
        click.echo(f"deleted {done.deleted} action URL(s) of this app (ivrhooks:...@{job.app_id})")

    _run(app_spec, work)
