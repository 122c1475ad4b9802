"""A dev session's entries on a real PBX: whose each one is, what is reaped, what is refused.

``ivrhooks dev --pbx URL --receptionist EXT`` registers the app's routes on the named
receptionists as *dev entries* (:mod:`.devnames`: ``ivrhooks-dev:<route>@<app>~<expiry>``)
through the same :class:`~.job.RegistrationJob` as production, with :class:`DevEntries` as its
owner. On each receptionist it sorts what it finds:

- **this session's**: dev entries of this app calling this session's public URL. Matched by
  name without the expiry, so a renewal or a reload updates them in place (the name carries the
  new expiry), and one whose route is gone is deleted;
- **expired** dev entries of this app, from any session (one that crashed, or was killed,
  left them): deleted, "reaped";
- dev entries of this app from **another session** still running (another public URL, an
  expiry to come): refused, since the PBX would fire either; ``--force`` replaces them (for a
  session that crashed moments ago);
- this app's **production** entries (``ivrhooks:<route>@<app>``, its id or the one its module
  derives at the URL they call, as :class:`~.owner.Moves` finds it): refused, since callers of
  production would reach the dev session; ``--force`` registers beside them and warns of each
  overlap, and never touches them;
- any other app's entries, production or dev: a conflict on an overlap, as in production;
  entries made by people: a warning on an overlap.

"This app's" dev entries from another session are recognised as production recognises a move:
by the id its module derives at the URL they call, or the same explicit ``IVRHOOKS_APP_ID``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from ivrhooks.errors import UnknownReceptionistError
from ivrhooks.pbx import PBXClient
from ivrhooks.registration.apply import Applied, apply_plans
from ivrhooks.registration.desired import DesiredUrl
from ivrhooks.registration.devnames import dev_entry_name, parse_dev_name, until
from ivrhooks.registration.job import RegistrationJob
from ivrhooks.registration.owner import Moves, Owned, Sorted, Wanted, parse_name
from ivrhooks.registration.plan import Plan
from ivrhooks.registration.reconcile import unregister_plans
from ivrhooks.schema.models import ActionUrl

__all__ = ["DevEntries", "plan_session", "remove_session"]


@dataclass(frozen=True)
class DevEntries:
    """The owner of one dev session's entries (an :class:`~.owner.Owner`)."""

    public_url: str
    """Where this session's app is reached: its entries call URLs under it."""
    expires: int
    """Epoch second written into each name: the session renews it before it passes."""
    now: float
    """The time the PBX's entries are judged at (expired or not)."""
    force: bool = False
    """Register beside this app's production entries, and replace another session's."""
    routes: tuple[tuple[str, str], ...] = ()
    """(route, URL) of every route of the app, to know its entries registered elsewhere."""

    def name(self, route: str, chunk: int, app_id: str) -> str:
        return dev_entry_name(route, chunk, app_id, self.expires)

    def sort(
        self, desired: Mapping[str, Wanted], existing: Sequence[ActionUrl], app_id: str
    ) -> Sorted:
        urls = self.routes or tuple((w.route, str(w.body.url)) for w in desired.values())
        moves = Moves(app_id, urls)
        stems = {}
        for name in desired:
            parsed = parse_dev_name(name)
            if parsed is not None:
                stems[parsed.stem] = name
        ours: Owned = {}
        others: list[ActionUrl] = []
        by_hand: list[ActionUrl] = []
        noted: list[tuple[ActionUrl, str]] = []
        reap: list[tuple[ActionUrl, str]] = []
        sessions: list[ActionUrl] = []
        production: list[ActionUrl] = []
        for entry in existing:
            dev = parse_dev_name(entry.name)
            if dev is not None:
                whose = self._whose(dev.app, entry.url, app_id, moves)
                if whose is None:
                    others.append(entry)  # another app's session: a conflict on an overlap
                elif dev.expires <= self.now:
                    reap.append((entry, f"a dev entry of this app, {until(dev.expires, self.now)}"))
                elif whose == "session":
                    ours.setdefault(stems.get(dev.stem, str(entry.name)), []).append(entry)
                elif self.force:
                    reap.append((entry, "a dev entry of another session of this app (--force)"))
                else:
                    sessions.append(entry)
                continue
            managed = parse_name(entry.name)
            if managed is not None and (
                managed.app == app_id or moves.origin(managed.app, managed.route, entry.url)
            ):
                production.append(entry)
            elif managed is not None or str(entry.name or "").startswith("ivrhooks"):
                others.append(entry)
            else:
                by_hand.append(entry)
        refusals = []
        if desired and production:
            if self.force:
                noted.extend((e, "this app's production entry, left as it is") for e in production)
            else:
                refusals.append(_refusal_production(production))
        if desired and sessions:
            refusals.append(self._refusal_session(sessions))
        return Sorted(ours, {}, others, by_hand, {}, noted, reap, refusals)

    def _whose(self, app: str, url: str | None, app_id: str, moves: Moves) -> str | None:
        """``session`` (this one's), ``other`` (another session of this app) or ``None``."""
        base = self.public_url.rstrip("/") + "/"
        if app == app_id:
            return "session" if (url or "").startswith(base) else "other"
        route = (url or "").rstrip("/").rpartition("/")[2]  # the route's path ends the URL
        return "other" if moves.origin(app, route, url) is not None else None

    def _refusal_session(self, entries: Sequence[ActionUrl]) -> str:
        shown = ", ".join(
            f"{e.name!r} (id {e.id}) calling {e.url}, {until(_expiry(e), self.now)}"
            for e in entries
        )
        return (
            f"holds dev entries of this app from another `ivrhooks dev` session: {shown}; if "
            "that session no longer runs, pass --force to replace them (or wait: the first "
            "session after they expire deletes them); otherwise name another --receptionist"
        )


def _expiry(entry: ActionUrl) -> int:
    parsed = parse_dev_name(entry.name)
    return parsed.expires if parsed is not None else 0


def _refusal_production(entries: Sequence[ActionUrl]) -> str:
    shown = ", ".join(f"{e.name!r} (id {e.id})" for e in entries)
    return (
        f"holds this app's production action URLs {shown}: dev entries beside them would "
        "share its callers, and which one the PBX fires is undefined; name another "
        "--receptionist, or pass --force to register beside them (they are never touched)"
    )


async def plan_session(
    job: RegistrationJob, client: PBXClient, *, reap_also: Iterable[str] = ()
) -> list[Plan]:
    """The plans of a dev session's job: its receptionists, and ``reap_also`` (the app's other
    receptionists, where only this app's expired dev entries, and this session's own left over
    from a crash, are deleted). A receptionist of ``reap_also`` the PBX lacks is skipped."""
    extra = [ext for ext in dict.fromkeys(reap_also) if ext not in job.state]
    while True:
        state = {**job.state, **{ext: {} for ext in extra}}
        try:
            return await dataclasses.replace(job, state=state).plans(client, log_findings=False)
        except UnknownReceptionistError as exc:
            missing = [ext for ext in exc.extensions if ext in extra]
            if not missing:
                raise
            extra = [ext for ext in extra if ext not in missing]


async def remove_session(
    client: PBXClient,
    receptionists: Sequence[str],
    *,
    app_id: str,
    public_url: str,
    now: float,
) -> tuple[list[Plan], Applied]:
    """Delete this session's dev entries (``app_id``'s, calling under ``public_url``) from
    ``receptionists``, expired or not; nothing else. Needs no app: a session that ends with
    its code broken still removes what it registered."""
    owner = DevEntries(public_url=public_url, expires=0, now=now)
    state: dict[str, dict[str, DesiredUrl]] = {ext: {} for ext in receptionists}
    plans = await unregister_plans(client, state, app_id=app_id, owner=owner)
    return plans, await apply_plans(client, plans)
