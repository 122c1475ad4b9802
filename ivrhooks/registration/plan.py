"""The plan: what to create, update and delete so one receptionist matches the desired state.

Pure: (desired, existing) in, a :class:`Plan` out; nothing here talks to the PBX. Rules:

- Only entries named ``ivrhooks:...`` are ever touched; entries made by people are left alone,
  and a warning names any whose mask overlaps one of ours (the PBX's choice between two
  matching action URLs is not documented, reference/portsip.md §3).
- Several managed entries with one name (two replicas created it at once) are reduced to the
  one with the lowest id, so every replica, planning from the same list, keeps the same one.
- Managed entries whose name the app no longer declares are deleted.
- Existing and desired are compared field by field; an update sends the full object, since
  whether the PBX merges or replaces is not documented (§4).
- Secrets the PBX does not return: whether ``GET`` answers the action URL's ``password`` and
  ``token`` is not documented. A missing one alone is never drift (else every run would write);
  only during a secret rotation (``rewrite_hidden_secrets``) is such an entry rewritten.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from ivrhooks.errors import MaskError
from ivrhooks.masks import Kind, Mask, parse_mask
from ivrhooks.models import ActionUrl, ActionUrlCreate, ActionUrlUpdate
from ivrhooks.registration.desired import DesiredUrl, is_managed

__all__ = ["Delete", "Plan", "Update", "changed_fields", "plan_receptionist"]

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

    @property
    def writes(self) -> int:
        return len(self.creates) + len(self.updates) + len(self.deletes)

    @property
    def in_sync(self) -> bool:
        return self.writes == 0


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


def plan_receptionist(
    receptionist: str,
    ivr_id: str,
    desired: Mapping[str, DesiredUrl],
    existing: Sequence[ActionUrl],
    *,
    rewrite_hidden_secrets: bool = False,
) -> Plan:
    """Compare one receptionist's desired action URLs with what the PBX holds."""
    managed: dict[str, list[ActionUrl]] = {}
    by_hand: list[ActionUrl] = []
    for entry in existing:
        if is_managed(entry.name):
            managed.setdefault(str(entry.name), []).append(entry)
        else:
            by_hand.append(entry)
    creates: list[ActionUrlCreate] = []
    updates: list[Update] = []
    deletes: list[Delete] = []
    unchanged = 0
    for name, want in desired.items():
        found = sorted(managed.pop(name, []), key=lambda e: e.id)
        if not found:
            creates.append(want.body)
            continue
        keep, extra = found[0], found[1:]
        deletes.extend(Delete(e.id, name, f"duplicate of {keep.id}") for e in extra)
        changed = changed_fields(want.body, keep, rewrite_hidden_secrets=rewrite_hidden_secrets)
        if changed:
            body = ActionUrlUpdate.model_validate(want.body.model_dump(exclude_unset=True))
            updates.append(Update(keep.id, name, body, changed))
        else:
            unchanged += 1
    for name, stale in managed.items():
        for entry in sorted(stale, key=lambda e: e.id):
            deletes.append(Delete(entry.id, name, "the app no longer declares it"))
    return Plan(
        receptionist=receptionist,
        ivr_id=ivr_id,
        creates=tuple(creates),
        updates=tuple(updates),
        deletes=tuple(deletes),
        unchanged=unchanged,
        warnings=tuple(_overlaps(receptionist, desired, by_hand)),
    )


def _overlaps(
    receptionist: str, desired: Mapping[str, DesiredUrl], by_hand: Sequence[ActionUrl]
) -> list[str]:
    ours: dict[str, tuple[str, Mask]] = {}
    for want in desired.values():
        ours.setdefault(want.route, (str(want.body.type), want.mask))
    warnings: list[str] = []
    for entry in by_hand:
        if not entry.enabled or entry.type is None:
            continue
        kind = entry.type.value
        text = entry.dtmf_mask if kind == "DTMF" else entry.caller_mask
        if not text:
            continue
        try:
            theirs = parse_mask(text, cast(Kind, kind))
        except MaskError:
            continue  # a mask we cannot read cannot be compared; the PBX accepted it
        for route, (our_kind, mask) in ours.items():
            if our_kind != kind:
                continue
            sample = mask.overlap(theirs)
            if sample is not None:
                # A caller sample is a phone number: kept out of the message (and the logs).
                what = f"DTMF input {sample!r}" if kind == "DTMF" else "some caller numbers"
                warnings.append(
                    f"receptionist {receptionist}: action URL {entry.name!r} (id {entry.id}, "
                    f"not managed by ivrhooks) overlaps route {route!r}: both match {what}, "
                    "and which one the PBX fires is undefined"
                )
    return warnings
