"""The dev entries of an ``ivrhooks dev --pbx`` session: registered, renewed, removed.

The dev loop (:mod:`.dev_pbx`) owns them. It registers them on the named receptionists at the
start, again after each reload (the new routes replace the old entries in place) and before
they expire, each pass in a fresh process (:mod:`.dev_entries`) that loads the app as the
edited files say; and it removes them when the session ends (``quit``, Ctrl-C, SIGTERM), with
no need of the app, so a session whose code is broken at the end still cleans up. The first
pass also reaps this app's expired dev entries, left by a session that crashed
(:mod:`ivrhooks.registration.dev`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import signal
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import click

from ivrhooks.conf.config import PBXConfig
from ivrhooks.errors import IVRHooksError
from ivrhooks.pbx.untrusted import LINE_LIMIT, pbx_text
from ivrhooks.registration.dev import remove_session
from ivrhooks.registration.devnames import until
from ivrhooks.registration.job import pbx_client

__all__ = ["DEV_TTL", "RENEW_EVERY", "DevSession", "session_env", "stop_on_signals"]

DEV_TTL = 3600
"""Seconds a dev entry lives unless renewed: how long a crashed session's entries stay."""
RENEW_EVERY = DEV_TTL // 3
"""Seconds between renewals: a late one (a laptop asleep) still comes before the end."""
PASS_WAIT = 120.0
"""Seconds one registration pass (loading the app included) may take."""
REMOVE_WAIT = 30.0
"""Seconds the removal at the end may take: a PBX that does not answer keeps nobody waiting."""

# The child's and the pass's environments are built here, from the shell's, without these.
_OWN = (
    "IVRHOOKS_PUBLIC_URL",
    "IVRHOOKS_EMBEDDED_PBX",
    "IVRHOOKS_EMBEDDED_PBX_PASSWORD",
    "IVRHOOKS_PORT",
    "IVRHOOKS_HOST",
    "IVRHOOKS_REGISTER",
)


def session_env(
    environ: Mapping[str, str], *, public_url: str, pbx: PBXConfig
) -> tuple[dict[str, str], dict[str, str]]:
    """The ``run`` child's environment and the registration pass's.

    Both get the session's public URL and one secret for the whole session (the shell's
    ``IVRHOOKS_SECRET`` when set), so the app has the same id and credentials in both. Only the
    pass gets the PBX and its login; the child serves and registers nothing."""
    base = {
        name: value
        for name, value in environ.items()
        if not name.startswith("IVRHOOKS_PBX_") and name not in _OWN
    }
    base["PYTHONDONTWRITEBYTECODE"] = "1"  # see child_env in .dev
    base.setdefault("IVRHOOKS_SECRET", secrets.token_urlsafe(32))
    base["IVRHOOKS_PUBLIC_URL"] = public_url
    child = {**base, "IVRHOOKS_REGISTER": "false"}
    login = {
        "IVRHOOKS_PBX_URL": pbx.url,
        "IVRHOOKS_PBX_USERNAME": pbx.username,
        "IVRHOOKS_PBX_PASSWORD": pbx.password,
        "IVRHOOKS_PBX_DOMAIN": pbx.domain,
        "IVRHOOKS_PBX_TOKEN": pbx.token,
        "IVRHOOKS_PBX_VERIFY_TLS": None if pbx.verify_tls else "false",
    }
    passing = {**base, **{name: value for name, value in login.items() if value}}
    for name in ("IVRHOOKS_PBX_RATE",):
        if name in environ:
            passing[name] = environ[name]
    return child, passing


@dataclass
class DevSession:
    """One session's dev entries: register, renew, remove."""

    app_spec: str
    pbx: PBXConfig
    receptionists: tuple[str, ...]
    public_url: str
    env: dict[str, str]
    force: bool = False
    clock: Callable[[], float] = time.time

    def __post_init__(self) -> None:
        self.app_ids: set[str] = set()  # every id the entries were registered under
        self.expires = 0
        self.reaped = False
        self._lock = asyncio.Lock()

    async def register(self, *, first: bool = False, renewal: bool = False) -> None:
        """One pass. At the start (``first``) a refusal or a PBX that fails ends the session
        (``click.ClickException``); later, it is said and the session goes on."""
        async with self._lock:
            now = int(self.clock())
            # A reload keeps the expiry written less than a renewal ago: the entries it did not
            # change are not written again (a save costs only what it changed on the PBX).
            fresh = self.expires - now > DEV_TTL - RENEW_EVERY
            expires = self.expires if fresh and not renewal else now + DEV_TTL
            result = await self._pass(expires)
        if result is None:
            click.echo(
                "dev entries not updated: the app did not start (its error is above); save a "
                "file to try again",
                err=True,
            )
            return
        if "refused" in result or "failed" in result:
            lines = result.get("refused") or [result["failed"]]
            if first:
                raise click.ClickException("\n".join(lines))
            for line in lines:
                click.echo(f"dev entries not updated: {line}", err=True)
            return
        self.reaped = True
        self.app_ids.add(result["app_id"])
        self.expires = expires
        self._report(result, renewal)

    async def _pass(self, expires: int) -> dict[str, Any] | None:
        cmd = [sys.executable, "-m", "ivrhooks.cli.dev_entries", self.app_spec]
        cmd += [arg for ext in self.receptionists for arg in ("--receptionist", ext)]
        cmd += ["--expires", str(expires)]
        cmd += ["--force"] if self.force else []
        cmd += [] if self.reaped else ["--reap"]
        proc = await asyncio.create_subprocess_exec(
            *cmd, env=self.env, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE
        )
        try:
            async with asyncio.timeout(PASS_WAIT):
                out, _ = await proc.communicate()
        except (TimeoutError, asyncio.CancelledError):
            # Never left running: a pass that wrote after the session removed its entries
            # would leave them on the PBX.
            proc.kill()
            await proc.wait()
            if not isinstance(sys.exc_info()[1], TimeoutError):
                raise
            return {"failed": f"the registration pass took over {PASS_WAIT:.0f} s; stopped it"}
        # The app's own prints may come first: the pass's answer is its last line.
        for line in reversed(out.decode(errors="replace").splitlines()):
            with contextlib.suppress(ValueError):
                found = json.loads(line)
                if isinstance(found, dict):
                    return found
        return None

    def _report(self, result: dict[str, Any], renewal: bool) -> None:
        for removed in result["removed"]:
            click.echo(
                f"deleted {removed['name']} on receptionist {removed['receptionist']}: "
                f"{removed['reason']}"
            )
        for warning in result["warnings"]:
            click.echo(f"warning: {warning}", err=True)
        end = until(self.expires, time.time())
        if renewal and not result["created"] and not result["deleted"]:
            click.echo(f"dev entries renewed, {end}")
            return
        shown = ", ".join(
            f"{e['route']} ({e['type']} {e['mask']!r})"
            if e["type"] == "DTMF"
            else f"{e['route']} ({e['type']})"
            for e in result["entries"]
        )
        where = ", ".join(self.receptionists)
        click.echo(
            f"dev entries registered on receptionist {where} ({result['created']} created, "
            f"{result['updated']} updated, {result['deleted']} deleted; {end}, renewed while "
            f"this session runs): {shown or 'none (the app registers no route)'}"
        )

    async def renew(self) -> None:
        """Register again every :data:`RENEW_EVERY` seconds, for ever (cancelled at the end)."""
        while True:
            await asyncio.sleep(RENEW_EVERY)
            await self.register(renewal=True)

    async def remove(self) -> None:
        """Delete the session's dev entries from its receptionists; say what was left, if any.
        Called once no pass runs any more (a pass still running would write after it)."""
        assert not self._lock.locked(), "a registration pass is still running"
        if not self.app_ids:
            return
        removed = 0
        client = pbx_client(self.pbx)
        try:
            async with asyncio.timeout(REMOVE_WAIT), client:
                for app_id in sorted(self.app_ids):
                    _, done = await remove_session(
                        client,
                        self.receptionists,
                        app_id=app_id,
                        public_url=self.public_url,
                        now=time.time(),
                    )
                    removed += done.deleted
        except (IVRHooksError, OSError, TimeoutError) as exc:
            reason = "no answer in time" if isinstance(exc, TimeoutError) else str(exc)
            reason = pbx_text(reason, secrets=client.tokens.secrets, limit=LINE_LIMIT)
            click.echo(
                f"could not remove the dev entries ({reason}): they expire "
                f"{until(self.expires, time.time()).removeprefix('until ')}, and the next "
                "`ivrhooks dev` of this app deletes them then",
                err=True,
            )
            return
        click.echo(
            f"removed {removed} dev entr{'y' if removed == 1 else 'ies'} from receptionist "
            f"{', '.join(self.receptionists)}"
        )


def stop_on_signals(stop: asyncio.Event) -> None:
    """Ctrl-C and SIGTERM end the session as ``quit`` does: the dev entries are removed."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
