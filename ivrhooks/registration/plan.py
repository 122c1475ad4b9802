"""The plan: what to create, update and delete so one receptionist matches the desired state.

Pure: (desired, existing) in, a :class:`Plan` out; nothing here talks to the PBX. Rules:

- Only this app's entries (``ivrhooks:<route>@<app id>``, see :mod:`.owner`) are ever touched,
  plus those it adopts (renamed in place): entries of another name (ivrhooks 0.1's, an earlier
  identity's) that already point at this app's URL, and its own from another public URL when
  they hold exactly its routes and masks (the app moved).
  Entries made by people are left alone, and a warning names any whose mask overlaps one of
  ours (the PBX's choice between two matching action URLs is not documented, portsip.md §3).
- Another app's entries are never touched either; one that would route the same input on the
  same receptionist as ours is a *conflict* naming both apps: ``plan`` reports it and
  registration refuses to write anything while it lasts.
- Several managed entries with one name (two replicas created it at once) are reduced to the
  one with the lowest id, so every replica, planning from the same list, keeps the same one.
- This app's entries whose name it no longer declares are deleted.
- Existing and desired are compared field by field; an update sends the full object, since
  whether the PBX merges or replaces is not documented (§4).
- The names, and which entries are whose, come from an :class:`~.owner.Owner`: production's
  (:data:`~.owner.PRODUCTION`) unless a dev session's (:mod:`.dev`) is given; that one also
  names entries to delete with a reason of their own (expired) and receptionists it refuses.
- Secrets the PBX does not return: whether ``GET`` answers the action URL's ``password`` and
  ``token`` is not documented. A missing one alone is never drift (else every run would write);
  only during a secret rotation (``rewrite_hidden_secrets``) is such an entry rewritten.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from ivrhooks.core.masks import Kind, Mask, parse_mask
from ivrhooks.errors import MaskError
from ivrhooks.registration.desired import DesiredUrl
from ivrhooks.registration.owner import PRODUCTION, Owner
from ivrhooks.schema.models import ActionUrl, ActionUrlCreate, ActionUrlUpdate

__all__ = ["Delete", "Plan", "Update", "changed_fields", "owned", "plan_receptionist"]

# PortSIP admin guide "Action URL": both timeouts default to 2 seconds when unset.
_DEFAULT_TIMEOUT = 2
_PLAIN = (
    "name",
    "enabled",
    "type",
    "method",
    "headers",
    "dtmf_mask",
    "caller_mask",
    "connection_timeout",
    "request_timeout",
    "url",
    "auth",
)
_SECRETS = ("password", "token")


@dataclass(frozen=True)
class Update:
    id: str
    name: str
    body: ActionUrlUpdate
    changed: tuple[str, ...]  # the fields that differ (names only: never their values)
    blind: tuple[str, ...] = ()
    """The secrets among ``changed`` rewritten only because the PBX does not show them: not
    known to differ (a rotation or a recheck rewrites them to be sure)."""

    @property
    def drift(self) -> bool:
        """Whether the PBX is known to differ from the app here (not only blind rewrites)."""
        return len(self.changed) > len(self.blind)


@dataclass(frozen=True)
class Delete:
    id: str
    name: str
    reason: str


@dataclass(frozen=True)
class Plan:
    """The writes that bring one receptionist in line with the app."""

    receptionist: str
    ivr_id: str
    creates: tuple[ActionUrlCreate, ...] = ()
    updates: tuple[Update, ...] = ()
    deletes: tuple[Delete, ...] = ()
    unchanged: int = 0
    warnings: tuple[str, ...] = ()
    conflicts: tuple[str, ...] = ()
    """Why nothing is written: another app's entries that would answer the same input as ours,
    or what the owner refuses (a dev session on a receptionist of production's entries)."""

    @property
    def writes(self) -> int:
        return len(self.creates) + len(self.updates) + len(self.deletes)

    @property
    def drift(self) -> int:
        """Writes for what the PBX is known to hold differently (secrets it hides, rewritten
        to be sure, are not counted): while they are made, calls may be refused."""
        return len(self.creates) + len(self.deletes) + sum(u.drift for u in self.updates)

    @property
    def in_sync(self) -> bool:
        return self.writes == 0 and not self.conflicts


def _norm(field: str, value: Any) -> Any:
    if value is None:
        return _DEFAULT_TIMEOUT if field.endswith("_timeout") else ""
    return getattr(value, "value", value)  # enums compare by their wire value


def changed_fields(
    desired: ActionUrlCreate, existing: ActionUrl, *, rewrite_hidden_secrets: bool = False
) -> tuple[str, ...]:
    """The names of the fields where ``existing`` differs from ``desired``."""
    changed = [f for f in _PLAIN if _norm(f, getattr(desired, f)) != _norm(f, getattr(existing, f))]
    if desired.username is not None and desired.username != existing.username:
        changed.append("username")
    for field in _SECRETS:
        want = getattr(desired, field)
        have = getattr(existing, field)
        if want is None:
            continue
        if have:
            if have != want:
                changed.append(field)
        elif rewrite_hidden_secrets:
            changed.append(field)  # not returned by the PBX: rewrite it during a rotation
    return tuple(changed)


def owned(
    desired: Mapping[str, DesiredUrl],
    existing: Sequence[ActionUrl],
    *,
    app_id: str,
    owner: Owner = PRODUCTION,
) -> list[ActionUrl]:
    """Every entry of ``existing`` this app owns (its own, the 0.1-named ones it adopts, and
    those the owner would delete anyway)."""
    split = owner.sort(desired, existing, app_id)
    found = [e for group in (split.ours, split.adopted) for es in group.values() for e in es]
    return sorted([*found, *(e for e, _ in split.reap)], key=lambda e: e.id)


def plan_receptionist(
    receptionist: str,
    ivr_id: str,
    desired: Mapping[str, DesiredUrl],
    existing: Sequence[ActionUrl],
    *,
    app_id: str,
    rewrite_hidden_secrets: bool = False,
    owner: Owner = PRODUCTION,
) -> Plan:
    """Compare one receptionist's desired action URLs with what the PBX holds."""
    split = owner.sort(desired, existing, app_id)
    ours, adopted = split.ours, split.adopted
    creates: list[ActionUrlCreate] = []
    updates: list[Update] = []
    deletes: list[Delete] = []
    unchanged = 0
    for name, want in desired.items():
        mine = sorted(ours.pop(name, []), key=lambda e: e.id)
        legacy = sorted(adopted.pop(name, []), key=lambda e: e.id)
        found = mine + legacy  # an entry with our name wins over one to adopt
        if not found:
            creates.append(want.body)
            continue
        keep, extra = found[0], found[1:]
        deletes.extend(Delete(e.id, str(e.name), f"duplicate of {keep.id}") for e in extra)
        changed = changed_fields(want.body, keep, rewrite_hidden_secrets=rewrite_hidden_secrets)
        if changed:
            body = ActionUrlUpdate.model_validate(want.body.model_dump(exclude_unset=True))
            blind = tuple(f for f in changed if f in _SECRETS and not getattr(keep, f))
            updates.append(Update(keep.id, name, body, changed, blind))
        else:
            unchanged += 1
    for name, stale in ours.items():
        for entry in sorted(stale, key=lambda e: e.id):
            deletes.append(Delete(entry.id, name, "the app no longer declares it"))
    for entry, why in sorted(split.reap, key=lambda found: found[0].id):
        deletes.append(Delete(entry.id, str(entry.name), why))
    hand = [(e, "not managed by ivrhooks") for e in split.by_hand]
    return Plan(
        receptionist=receptionist,
        ivr_id=ivr_id,
        creates=tuple(creates),
        updates=tuple(updates),
        deletes=tuple(deletes),
        unchanged=unchanged,
        warnings=tuple(_warnings(receptionist, desired, [*hand, *split.noted])),
        conflicts=(
            *(f"receptionist {receptionist}: {why}" for why in split.refusals),
            *_overlaps(
                receptionist, desired, split.others, theirs="app", elsewhere=split.elsewhere
            ),
        ),
    )


def _warnings(
    receptionist: str, desired: Mapping[str, DesiredUrl], entries: Sequence[tuple[ActionUrl, str]]
) -> list[str]:
    """One warning per entry left alone (each said what it is) that overlaps one of ours."""
    what = {entry.id: said for entry, said in entries}
    return _overlaps(receptionist, desired, [e for e, _ in entries], theirs="hand", said=what)


def _overlaps(
    receptionist: str,
    desired: Mapping[str, DesiredUrl],
    entries: Sequence[ActionUrl],
    *,
    theirs: str,
    elsewhere: Mapping[str, str] | None = None,
    said: Mapping[str, str] | None = None,
) -> list[str]:
    """One line per entry of ``entries`` whose mask shares an input with one of our routes."""
    ours: dict[str, tuple[str, Mask, str, str]] = {}
    for want in desired.values():
        body = want.body
        ours.setdefault(want.route, (str(body.type), want.mask, str(body.url), str(body.name)))
    found: list[str] = []
    for entry in entries:
        if not entry.enabled or entry.type is None:
            continue
        kind = entry.type.value
        text = entry.dtmf_mask if kind == "DTMF" else entry.caller_mask
        if not text:
            continue
        try:
            other = parse_mask(text, cast(Kind, kind))
        except MaskError:
            continue  # a mask we cannot read cannot be compared; the PBX accepted it
        for route, (our_kind, mask, url, name) in ours.items():
            if our_kind != kind:
                continue
            sample = mask.overlap(other)
            if sample is None:
                continue
            # A caller sample is a phone number: kept out of the message (and the logs).
            what = f"DTMF input {sample!r}" if kind == "DTMF" else "some caller numbers"
            origin = (elsewhere or {}).get(entry.id)
            if origin is not None:
                ours_here = (route, name, url)
                found.append(_deployment_conflict(receptionist, entry, origin, ours_here, what))
            elif theirs == "hand":
                found.append(
                    f"receptionist {receptionist}: action URL {entry.name!r} (id {entry.id}, "
                    f"{(said or {}).get(entry.id, 'not managed by ivrhooks')}) overlaps route "
                    f"{route!r}: both match {what}, and which one the PBX fires is undefined"
                )
            else:
                found.append(
                    f"receptionist {receptionist}: action URL {entry.name!r} of another app "
                    f"(id {entry.id}, calling {entry.url}) and route {route!r} of this app "
                    f"({name!r}, calling {url}) both match {what}; remove one (`ivrhooks "
                    "unregister` on the other app) or narrow a mask"
                )
            break
    return found


def _deployment_conflict(
    receptionist: str, entry: ActionUrl, origin: str, ours: tuple[str, str, str], what: str
) -> str:
    """The conflict with this app's own entry from another public URL that holds other routes:
    a second deployment of the app, or the app before a move that also changed its routes."""
    route, name, url = ours
    return (
        f"receptionist {receptionist}: action URL {entry.name!r} (id {entry.id}, calling "
        f"{entry.url}) was registered by this app's module from the public URL {origin}, with "
        f"other routes than this app's, and route {route!r} of this app ({name!r}, calling "
        f"{url}) matches {what} too; if this app moved from there, delete those entries "
        f"(`ivrhooks unregister APP` with IVRHOOKS_PUBLIC_URL={origin}); if two deployments of "
        "this app must share this PBX, set IVRHOOKS_APP_ID to a different value on each, and "
        "keep their inputs apart"
    )
