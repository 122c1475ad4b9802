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
from ivrhooks.errors import ConfigurationError, PBXConnectionError, PBXError, PBXLoginError
from ivrhooks.registration.events import (
    EventUrlPlan,
    event_url_lines,
    read_event_urls,
    shown_url,
    sync_event_urls,
)
from ivrhooks.registration.job import RegistrationJob
from ivrhooks.registration.plan import Plan
from ivrhooks.schema.models import ActionUrlCreate, ActionUrlUpdate

__all__ = ["plan", "plan_lines", "sync", "unregister"]

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


def plan_lines(plan: Plan) -> list[str]:
    """The plan of one receptionist, in ``ivrhooks plan``'s words; secrets never shown."""
    state = "in sync" if plan.in_sync else f"{plan.writes} change(s)"
    lines = [f"receptionist {plan.receptionist} (id {plan.ivr_id}): {state}"]
    for c in plan.creates:
        mask = c.dtmf_mask or c.caller_mask
        lines.append(f"  + create {c.name}  {c.type} {mask!r} -> {c.method} {c.url} ({c.auth})")
    lines += [f"  ~ update {u.name} (id {u.id}): {', '.join(u.changed)}" for u in plan.updates]
    lines += [f"  - delete {d.name} (id {d.id}): {d.reason}" for d in plan.deletes]
    lines += [f"  ! {w}" for w in plan.warnings]
    lines += [f"  ! conflict: {c}" for c in plan.conflicts]
    return lines


def _echo_plan(plans: list[Plan]) -> None:
    for p in plans:
        for line in plan_lines(p):
            click.echo(line)


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

    async def work(job: RegistrationJob) -> tuple[list[Plan], list[EventUrlPlan] | str, bool]:
        async with job.client() as pbx:
            plans = await job.plans(pbx, log_findings=False)  # printed below, with the plan
            events: list[EventUrlPlan] | str
            try:
                events = await read_event_urls(pbx, job.manifest)
            except PBXError as exc:  # an older PBX, or an account that may not read /tenant
                events = f"cannot read the tenant's event URLs (GET /tenant): {exc}"
            except ConfigurationError as exc:  # not registered (IVRHOOKS_REGISTER_EVENTS=false)
                events = str(exc)
            return plans, events, job.config.events.register

    plans, events, register = _run(app_spec, work)
    pending = not all(p.in_sync for p in plans)
    if isinstance(events, list):
        pending = pending or (register and any(e.verdict == "write" for e in events))
    if as_json:
        shown = plan_json(plans)
        shown["in_sync"] = not pending
        shown["event_urls"] = (
            {"error": events}
            if isinstance(events, str)
            else [
                {
                    "field": e.field,
                    "url": shown_url(e.current.url),
                    "enabled": e.current.enabled,
                    "auth": str(e.current.auth),
                    "verdict": e.verdict,
                    "reason": e.reason,
                }
                for e in events
            ]
        )
        click.echo(json.dumps(shown, indent=2))
    else:
        _echo_plan(plans)
        click.echo("tenant event URLs:")
        lines = [events] if isinstance(events, str) else event_url_lines(events, register=register)
        for line in lines:
            click.echo("  " + line)
    if pending:
        raise SystemExit(PENDING)


@main.command()
@click.argument("app_spec", metavar="APP")
def sync(app_spec: str) -> None:
    """Make the PBX's action URLs match APP once (and the tenant's event URLs, with
    IVRHOOKS_REGISTER_EVENTS=true), then exit."""

    async def work(job: RegistrationJob) -> None:
        async with job.client() as pbx:
            report = await job.reconcile(pbx)
            events = None
            if job.config.events.register:
                events = await sync_event_urls(pbx, job.manifest, written=set())
        _echo_plan([p for p in report.plans if not p.in_sync])
        done = report.applied
        click.echo(
            f"in sync: {done.created} created, {done.updated} updated, {done.deleted} deleted "
            f"on {len(report.plans)} receptionist(s)"
        )
        if events is not None:
            for field in events.written:
                click.echo(f"event URL written: {field} posts to this app")
            for problem in events.problems:
                click.echo(f"event URL not written: {problem}")

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
