"""The tenant's event URLs, pointed at this app when asked (``IVRHOOKS_REGISTER_EVENTS=true``).

A tenant has one CDR event URL and one extension event URL (``cdr_event``, ``extension_event``
of ``/tenant``), with no name or owner field: whatever another system set there is its own.
So an event URL is written only when it is **unset or disabled**, or **already this app's**
(its URL is this app's event endpoint) and differs from what the app needs (credentials from a
new secret, an edit in the portal). Any other URL is left alone, said once in the log, and shown
by ``ivrhooks plan`` and ``ivrhooks doctor`` with what to do. Only the event objects that need
writing are sent (whether ``POST /tenant`` merges or replaces is not documented), and the
tenant is read back to check they took.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from pydantic import ValidationError

from ivrhooks.errors import ConfigurationError, IVRHooksError
from ivrhooks.manifest import Manifest, ManifestEvents
from ivrhooks.pbx.client import PBXClient
from ivrhooks.pbx.untrusted import pbx_text
from ivrhooks.schema.models import AuthMode
from ivrhooks.schema.tenant import EVENT_FIELDS, EventUrl, EventUrlUpdate, Tenant
from ivrhooks.schema.wire import describe_validation_error

__all__ = [
    "EventUrlKeeper",
    "EventUrlPlan",
    "EventsSync",
    "desired_event_urls",
    "event_url_lines",
    "plan_event_urls",
    "read_event_urls",
    "shown_url",
    "sync_event_urls",
]

log = logging.getLogger("ivrhooks.registration")

Verdict = Literal["in place", "write", "foreign"]

_AUTH: Mapping[str, AuthMode] = {
    "basic": AuthMode.BASIC,
    "digest": AuthMode.DIGEST,
    "bearer": AuthMode.BEARER,
    "none": AuthMode.DISABLE,
}


@dataclass(frozen=True)
class EventUrlPlan:
    """What one of the tenant's event URLs is, and what this app does about it."""

    kind: str
    """``"cdr"`` or ``"extension"``."""
    field: str
    """``cdr_event`` or ``extension_event``."""
    current: EventUrl
    desired: EventUrlUpdate
    verdict: Verdict
    reason: str
    """Why, for logs, ``plan`` and ``doctor`` (no credential; a foreign URL without its query)."""


@dataclass(frozen=True)
class EventsSync:
    """One pass over the tenant's event URLs."""

    plans: tuple[EventUrlPlan, ...]
    written: tuple[str, ...]
    """The fields written (and read back as written)."""
    problems: tuple[str, ...] = ()
    """What did not take, or is not this app's, in words an operator can act on."""


def desired_event_urls(manifest: Manifest) -> dict[str, EventUrlUpdate]:
    """``{kind: the event URL object this app needs}``; requires the public URL."""
    base = (manifest.public_url or "").rstrip("/")
    return {entry.kind: _desired(entry, base) for entry in manifest.events}


def _desired(entry: ManifestEvents, base: str) -> EventUrlUpdate:
    auth = _AUTH[entry.scheme]
    fields: dict[str, object] = {"enabled": True, "auth": auth, "url": base + entry.path}
    credentials = entry.credentials
    if credentials is not None and auth in (AuthMode.BASIC, AuthMode.DIGEST):
        fields.update(username=credentials.username, password=credentials.password)
    elif credentials is not None and auth is AuthMode.BEARER:
        fields["token"] = credentials.token
    try:
        return EventUrlUpdate.model_validate(fields)
    except ValidationError as exc:
        raise ConfigurationError(
            f"the {entry.kind} event URL {shown_url(str(fields['url']))}: "
            f"{describe_validation_error(exc)} (PortSIP keeps at most 128 characters: shorten "
            "IVRHOOKS_PUBLIC_URL, or set IVRHOOKS_REGISTER_EVENTS=false)"
        ) from None


def shown_url(url: str | None) -> str:
    """A URL as logs may show it: scheme, host and path (a query may carry a token)."""
    if not url:
        return "(none)"
    parts = urlsplit(url)
    return pbx_text(f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}{parts.path}", limit=160)


def plan_event_urls(
    tenant: Tenant, desired: Mapping[str, EventUrlUpdate], *, written: Iterable[str] = ()
) -> list[EventUrlPlan]:
    """Each event URL's verdict. ``written``: the fields this process already wrote, so one
    whose secrets the PBX does not show back is not written again on every pass."""
    done = set(written)
    plans = []
    for kind, want in desired.items():
        field = EVENT_FIELDS[kind]
        current: EventUrl = getattr(tenant, field)
        verdict, reason = _verdict(current, want, field in done)
        plans.append(EventUrlPlan(kind, field, current, want, verdict, reason))
    return plans


def _verdict(current: EventUrl, want: EventUrlUpdate, written: bool) -> tuple[Verdict, str]:
    if not current.url or not current.enabled:
        state = "unset" if not current.url else f"disabled ({shown_url(current.url)})"
        return "write", f"{state}: pointing it at {shown_url(want.url)}"
    if current.url != want.url:
        return "foreign", (
            f"posts to {shown_url(current.url)}, not this app: left alone; clear it in the "
            f"portal (Company > Event URL) or set it to {shown_url(want.url)} by hand"
        )
    differs = [
        name
        for name in ("auth", "username")
        if getattr(current, name) != getattr(want, name) and getattr(want, name) is not None
    ]
    hidden = False
    for name in ("password", "token"):
        wanted = getattr(want, name)
        if wanted is None:
            continue
        shown = getattr(current, name)
        if shown is None:
            hidden = True
        elif shown != wanted:
            differs.append(name)
    if differs:
        return "write", f"this app's, but its {', '.join(differs)} differ: rewriting"
    if hidden and not written:
        return "write", "this app's; the PBX does not show its secret: writing it once"
    return "in place", "this app's, as needed"


async def sync_event_urls(
    client: PBXClient, manifest: Manifest, *, written: set[str]
) -> EventsSync:
    """Read the tenant, write the event URLs that are unset, disabled or this app's and differ,
    read it back. ``written`` is updated with the fields written (kept by the caller across
    passes). Raises what the client raises (the PBX unreachable, a refused write)."""
    desired = desired_event_urls(manifest)
    plans = plan_event_urls(await client.tenant.get(), desired, written=written)
    writes = {plan.field: plan.desired for plan in plans if plan.verdict == "write"}
    problems = [f"{plan.field} {plan.reason}" for plan in plans if plan.verdict == "foreign"]
    done: list[str] = []
    if writes:
        await client.tenant.update(**writes)
        after = await client.tenant.get()
        for field, want in writes.items():
            got: EventUrl = getattr(after, field)
            if got.url == want.url and got.enabled and got.auth == want.auth:
                done.append(field)
                written.add(field)
            else:
                problems.append(
                    f"{field}: written, but the PBX reads back {shown_url(got.url)} "
                    f"({'enabled' if got.enabled else 'disabled'}, {got.auth}): not taken"
                )
    return EventsSync(tuple(plans), tuple(done), tuple(problems))


class EventUrlKeeper:
    """Keeps the tenant's event URLs pointed at this app, pass after pass of the registration
    service: what it wrote, and what it already said (a foreign URL is logged once, not every
    pass). A failure is logged and never fails the pass: the action URLs matter more."""

    def __init__(self) -> None:
        self.written: set[str] = set()
        self.last: EventsSync | None = None
        self._said: set[str] = set()

    async def keep(self, client: PBXClient, manifest: Manifest, *, fresh: bool) -> None:
        """One pass; ``fresh``: write again what the PBX hides (a rotation, a re-check)."""
        if fresh:
            self.written.clear()
        try:
            sync = await sync_event_urls(client, manifest, written=self.written)
        except (IVRHooksError, OSError) as exc:
            said = f"event URLs not registered: {pbx_text(exc, limit=300)}"
            if said not in self._said:
                self._said.add(said)
                log.warning("%s (retried on the next pass)", said)
            return
        self.last = sync
        for field in sync.written:
            log.info("event URL registered: the tenant's %s posts to this app", field)
        for problem in sync.problems:
            if problem not in self._said:
                self._said.add(problem)
                log.warning("event URL not registered: %s", problem)


async def read_event_urls(client: PBXClient, manifest: Manifest) -> list[EventUrlPlan]:
    """The tenant's event URLs beside what this app needs, read only (``plan``, ``doctor``).
    Raises what the client raises."""
    return plan_event_urls(await client.tenant.get(), desired_event_urls(manifest))


def event_url_lines(plans: Iterable[EventUrlPlan], *, register: bool) -> list[str]:
    """``plan``'s and ``doctor``'s words for the tenant's event URLs; no credential shown."""
    lines = []
    for plan in plans:
        current = plan.current
        state = "enabled" if current.enabled else "disabled"
        lines.append(
            f"{plan.field}: {shown_url(current.url)} ({state}, {current.auth}); {plan.reason}"
        )
        if plan.verdict == "write" and not register:
            lines.append(
                f"  not written: IVRHOOKS_REGISTER_EVENTS is false; set it to true, or point "
                f"{plan.field} at {shown_url(plan.desired.url)} by hand, to receive these events"
            )
    return lines
