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
from ivrhooks.conf.config import Config
from ivrhooks.errors import PBXConnectionError, PBXLoginError
from ivrhooks.manifest import Manifest
from ivrhooks.registration.apply import apply_plans
from ivrhooks.registration.desired import desired_state
from ivrhooks.registration.plan import Plan
from ivrhooks.registration.reconcile import fetch_plans, reconcile, unregister_plans
from ivrhooks.registration.service import client_for, describe_failure, require_pbx
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


def _run(app_spec: str, work: Callable[[Config, Manifest], Coroutine[Any, Any, T]]) -> T:
    # ivrhooks' own errors are mapped to one line by the command group (ivrhooks.cli).
    app = load_app(app_spec)
    config = app.configure()
    # Everything the app would start with is checked first (credential files included), so a
    # plan is also a check of the deployment before anything reaches the PBX.
    server = app.build(config, services=())
    try:
        return asyncio.run(work(config, server.runtime.manifest))
    except (PBXConnectionError, PBXLoginError) as exc:
        # Say where the PBX was sought and which setting to change, not only what httpx said.
        raise click.ClickException(describe_failure(exc, config)) from None


@main.command()
@click.argument("app_spec", metavar="APP")
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
def plan(app_spec: str, as_json: bool) -> None:
    """Show what registration would change on the PBX, without writing (exit 2: changes)."""

    async def work(config: Config, manifest: Manifest) -> list[Plan]:
        pbx_config, state = require_pbx(config), desired_state(manifest)
        async with client_for(pbx_config) as pbx:
            rotating = config.auth.previous_secret is not None
            return await fetch_plans(
                pbx,
                state,
                app_id=manifest.app_id,
                rewrite_hidden_secrets=rotating,
                log_findings=False,  # printed below, with the plan
            )

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

    async def work(config: Config, manifest: Manifest) -> None:
        pbx_config, state = require_pbx(config), desired_state(manifest)
        async with client_for(pbx_config) as pbx:
            rotating = config.auth.previous_secret is not None
            report = await reconcile(
                pbx, state, app_id=manifest.app_id, rewrite_hidden_secrets=rotating
            )
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

    async def work(config: Config, manifest: Manifest) -> None:
        async with client_for(require_pbx(config)) as pbx:
            plans = await unregister_plans(pbx, desired_state(manifest), app_id=manifest.app_id)
            _echo_plan([p for p in plans if not p.in_sync])
            done = await apply_plans(pbx, plans)
        click.echo(
            f"deleted {done.deleted} action URL(s) of this app (ivrhooks:...@{manifest.app_id})"
        )

    _run(app_spec, work)
