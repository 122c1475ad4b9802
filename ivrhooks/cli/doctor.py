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
from ivrhooks.cli.registration import plan_lines
from ivrhooks.doctor import Diagnosis, diagnose

__all__ = ["doctor"]

_MARK = {"ok": "ok", "info": "info", "warn": "warn", "fail": "FAIL"}


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
