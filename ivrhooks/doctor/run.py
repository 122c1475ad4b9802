"""``diagnose``: the first contact with a real PBX, read-only.

In order, each step saying what it found: log in (which of the three login generations
answered, the token's lifetime), read who the account is, find the app's receptionists, check
the public URL, and plan what registration would write. Only ``GET`` requests and the login go
to the PBX; nothing is created, changed or deleted. A step that cannot go on (no login, say)
ends the diagnosis with the reason instead of raising, and so does the whole diagnosis outliving
its ``budget``: a PBX that answers slowly enough cannot keep it waiting.

What the PBX wrote (ids, another entry's URL, its error messages) reaches the report through
:func:`~ivrhooks.pbx.untrusted.pbx_text` only: the client's secrets redacted, control
characters escaped, lengths capped.
"""

from __future__ import annotations

import asyncio
import dataclasses
from dataclasses import dataclass, field
from typing import Any

from ivrhooks.conf.config import Config
from ivrhooks.doctor.checks import Finding, Level, account_findings, public_url_findings
from ivrhooks.errors import (
    ConfigurationError,
    PBXConnectionError,
    PBXError,
    TwoFactorRequiredError,
    UnknownReceptionistError,
)
from ivrhooks.manifest import Manifest
from ivrhooks.pbx import PBXClient, RetryPolicy
from ivrhooks.pbx.untrusted import LINE_LIMIT, pbx_text
from ivrhooks.registration.events import event_url_lines, read_event_urls
from ivrhooks.registration.job import RegistrationJob, pbx_client, require_pbx
from ivrhooks.registration.plan import Plan
from ivrhooks.registration.resolve import resolve_receptionists

__all__ = ["BUDGET", "Diagnosis", "diagnose"]

#: Seconds the whole diagnosis may take: a few reads, each normally well under a second.
BUDGET = 120.0


@dataclass
class Diagnosis:
    findings: list[Finding] = field(default_factory=list)
    plans: list[Plan] = field(default_factory=list)

    def add(self, level: Level, topic: str, text: str) -> None:
        self.findings.append(Finding(level, topic, text))

    @property
    def problems(self) -> list[Finding]:
        return [f for f in self.findings if f.level == "fail"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.level == "warn"]


async def diagnose(
    config: Config, manifest: Manifest, *, budget: float = BUDGET, **client_options: Any
) -> Diagnosis:
    """Everything ``ivrhooks doctor`` reports, found within ``budget`` seconds;
    ``client_options`` go to ``PBXClient``."""
    pbx_config = require_pbx(config)
    report = Diagnosis()
    report.add("info", "PBX", pbx_config.url)
    # Several apps may share the PBX; each touches only the entries named with its id.
    report.add("info", "app", f"action URLs named ivrhooks:<route>@{manifest.app_id}")
    if not pbx_config.verify_tls:
        report.add("warn", "PBX", "TLS certificates are not verified (IVRHOOKS_PBX_VERIFY_TLS)")
    # Fail fast, never retry hard: failed logins block the source address (§5).
    options = {"retry": RetryPolicy(max_attempts=2), **client_options}
    async with pbx_client(pbx_config, **options) as pbx:
        timer = asyncio.timeout(budget)
        try:
            async with timer:
                await _steps(pbx, config, manifest, report)
        except TimeoutError:
            if not timer.expired():
                raise
            report.add(
                "fail",
                "PBX",
                f"the diagnosis did not finish within its budget of {budget:g} s "
                "(diagnose(budget=...)): the PBX answers too slowly; the findings above are "
                "what it said in time",
            )
        # The last net: whatever a step quoted, no secret of the client's reaches the output.
        secrets = pbx.tokens.secrets
        report.findings = [
            Finding(f.level, f.topic, pbx_text(f.text, secrets=secrets, limit=None))
            for f in report.findings
        ]
    return report


async def _steps(pbx: PBXClient, config: Config, manifest: Manifest, report: Diagnosis) -> None:
    if not await _login(pbx, report):
        return
    await _account(pbx, report)
    found = await _receptionists(pbx, manifest, report)
    paths = [entry.path for entry in manifest.routes if entry.registered]
    report.findings += public_url_findings(manifest.public_url, paths, require_pbx(config).url)
    await _plan(pbx, config, manifest, found, report)
    await _event_urls(pbx, config, manifest, report)


async def _event_urls(
    pbx: PBXClient, config: Config, manifest: Manifest, report: Diagnosis
) -> None:
    """The tenant's event URLs beside what the app needs (docs/events.md): a foreign URL is a
    warning when the app asks to register events; unset ones are said for what they cost."""
    if not manifest.public_url:
        return
    try:
        plans = await read_event_urls(pbx, manifest)
    except ConfigurationError as exc:
        report.add("fail" if config.events.register else "info", "events", str(exc))
        return
    except PBXError as exc:
        level: Level = "warn" if config.events.register else "info"
        report.add(level, "events", f"cannot read the tenant's event URLs (GET /tenant): {exc}")
        return
    register = config.events.register
    for plan in plans:
        text = "; ".join(line.strip() for line in event_url_lines([plan], register=register))
        if plan.verdict == "in place":
            report.add("ok", "events", text)
        elif plan.verdict == "foreign":
            report.add("warn" if register else "info", "events", text)
        else:
            report.add("info", "events", text)


async def _login(pbx: PBXClient, report: Diagnosis) -> bool:
    tokens = pbx.tokens
    if not tokens.can_login:
        report.add(
            "info", "login", "a static token (IVRHOOKS_PBX_TOKEN): no login; lifetime unknown"
        )
        return True
    try:
        await tokens.token()
    except TwoFactorRequiredError:
        report.add(
            "fail",
            "login",
            "the account has two-factor login, which an unattended service cannot answer: use a "
            "tenant administrator (role Admin) without two-factor login",
        )
        return False
    except PBXConnectionError as exc:
        report.add("fail", "login", f"cannot reach the PBX: {exc}")
        return False
    except PBXError as exc:  # refused, or an answer past its cap: said as it is
        report.add("fail", "login", str(exc))
        return False
    assert tokens.generation is not None
    lifetime = "not given" if tokens.expires_in is None else f"{tokens.expires_in} s"
    renewal = (
        "refreshed before it runs out"
        if tokens.generation.refreshes
        else "renewed by logging in again (POST /login has no refresh endpoint)"
    )
    report.add(
        "ok",
        "login",
        f"{tokens.generation.label} answered; token lifetime {lifetime}, {renewal}",
    )
    return True


async def _account(pbx: PBXClient, report: Diagnosis) -> None:
    try:
        account = await pbx.account()
    except PBXError as exc:
        report.add("warn", "account", f"could not read who the account is: {exc}")
        return
    report.findings += account_findings(account)


async def _receptionists(pbx: PBXClient, manifest: Manifest, report: Diagnosis) -> list[str]:
    wanted = list(manifest.receptionists)
    missing: list[str] = []
    try:
        ids = await resolve_receptionists(pbx, wanted)
    except UnknownReceptionistError as exc:
        missing = list(exc.extensions)
        present = [ext for ext in wanted if ext not in missing]
        ids = await resolve_receptionists(pbx, present) if present else {}
    except PBXError as exc:
        report.add("fail", "receptionists", f"cannot list virtual receptionists: {exc}")
        return []
    for ext in wanted:
        if ext in ids:
            report.add("ok", "receptionists", f"{ext} found (id {pbx_text(ids[ext])})")
        else:
            report.add(
                "fail",
                "receptionists",
                f"{ext}: the PBX has no virtual receptionist with this extension number; create "
                "it on the PBX or remove it from IVRHOOKS_RECEPTIONISTS / the app",
            )
    return [ext for ext in wanted if ext in ids]


async def _plan(
    pbx: PBXClient, config: Config, manifest: Manifest, found: list[str], report: Diagnosis
) -> None:
    if any(f.level == "fail" and f.topic == "public URL" for f in report.findings):
        report.add("info", "plan", "not computed until the public URL is fixed")
        return
    try:
        job = RegistrationJob.of(config, manifest)
    except ConfigurationError as exc:
        report.add("fail", "plan", str(exc))
        return
    if not found:
        return
    try:
        report.plans = await job.plans(
            pbx,
            receptionists=found,
            log_findings=False,  # the report shows them
        )
    except PBXError as exc:
        report.add("fail", "plan", f"cannot read the action URLs: {exc}")
        return
    report.plans = [_shown(plan) for plan in report.plans]
    for plan in report.plans:
        # Another app's entry would answer the same input: registration writes nothing there.
        for conflict in plan.conflicts:
            report.add("fail", "plan", conflict)
        for warning in plan.warnings:  # e.g. a hand-made entry whose mask overlaps a route
            report.add("warn", "plan", warning)


def _shown(plan: Plan) -> Plan:
    """``plan`` as the report shows it: the PBX's ids, names and URLs made safe to print
    (the plan itself is never applied from here)."""

    def line(text: str) -> str:
        return pbx_text(text, limit=LINE_LIMIT)

    return dataclasses.replace(
        plan,
        ivr_id=pbx_text(plan.ivr_id),
        updates=tuple(dataclasses.replace(u, id=pbx_text(u.id)) for u in plan.updates),
        deletes=tuple(
            dataclasses.replace(d, id=pbx_text(d.id), name=pbx_text(d.name), reason=line(d.reason))
            for d in plan.deletes
        ),
        warnings=tuple(line(w) for w in plan.warnings),
        conflicts=tuple(line(c) for c in plan.conflicts),
    )
