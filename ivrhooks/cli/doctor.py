"""``ivrhooks doctor APP``: check the PBX connection and what registration would do, read-only.

Prints one line per finding (``ok``, ``info``, ``warn``, ``FAIL``), then the plan per
receptionist as ``ivrhooks plan`` shows it. Exit status 1 when something must be fixed, 0
otherwise; warnings alone do not fail. Nothing is written to the PBX, and no secret (password,
token, the action URLs' credentials) is printed.
"""

from __future__ import annotations

import asyncio

import click

from ivrhooks.cli.group import main
from ivrhooks.cli.loader import load_app
from ivrhooks.doctor import Diagnosis, diagnose
from ivrhooks.registration.plan import Plan

__all__ = ["doctor"]

_MARK = {"ok": "ok", "info": "info", "warn": "warn", "fail": "FAIL"}


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


def _echo(report: Diagnosis) -> None:
    width = max((len(f.topic) for f in report.findings), default=0)
    for finding in report.findings:
        click.echo(f"{_MARK[finding.level]:<4}  {finding.topic:<{width}}  {finding.text}")
    if report.plans:
        click.echo("")
        click.echo("what `ivrhooks plan` would write:")
        for plan in report.plans:
            for line in plan_lines(plan):
                click.echo("  " + line)
    click.echo("")
    problems, warnings = len(report.problems), len(report.warnings)
    click.echo(f"nothing was written to the PBX. {problems} problem(s), {warnings} warning(s).")


@main.command()
@click.argument("app_spec", metavar="APP")
def doctor(app_spec: str) -> None:
    """Check the PBX login, account, receptionists and public URL, and show the plan; read-only."""
    # ivrhooks' own errors (no PBX configured, a bad setting) are one line via the group.
    app = load_app(app_spec)
    config = app.configure()
    click.echo("ivrhooks doctor: reading the PBX, writing nothing")
    report = asyncio.run(diagnose(config, app.manifest(config)))
    _echo(report)
    if report.problems:
        raise SystemExit(1)
