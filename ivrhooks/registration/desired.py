"""Desired state: the action URLs the app's routes ask for, per receptionist.

Pure: the app's manifest in, validated ``ActionUrlCreate`` objects out. Every limit the PBX
imposes is checked here, at startup, so a bad configuration fails before any request is sent
(PortSIP REST action URL schema; reference/portsip.md §4: name <= 64, mask <= 255, url <= 128).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from pydantic import ValidationError

from ivrhooks.core.masks import Mask
from ivrhooks.core.types import AUTH_MODES, MAX_ACTION_URL, MAX_MASK, MAX_NAME
from ivrhooks.errors import ConfigurationError
from ivrhooks.manifest import Manifest
from ivrhooks.registration.owner import MANAGED_PREFIX, PRODUCTION, Owner, entry_name
from ivrhooks.schema.models import ActionUrlCreate

__all__ = [
    "MANAGED_PREFIX",
    "MAX_MASK",
    "MAX_NAME",
    "MAX_URL",
    "DesiredUrl",
    "desired_state",
    "entry_name",
    "summary",
]

MAX_URL = MAX_ACTION_URL


@dataclass(frozen=True)
class DesiredUrl:
    """One action URL ivrhooks wants on one receptionist."""

    route: str  # the route's name
    mask: Mask  # the route's whole mask (for overlap warnings)
    body: ActionUrlCreate  # the full object to create, or to send as an update


def desired_state(
    manifest: Manifest, *, owner: Owner = PRODUCTION
) -> dict[str, dict[str, DesiredUrl]]:
    """``{extension_number: {entry name: DesiredUrl}}`` for every registrable route, each
    named by ``owner`` (production's ``ivrhooks:<route>@<app>`` by default).

    Routes with static credentials were configured by hand on the PBX and are skipped.
    Raises ``ConfigurationError`` naming what to change when a limit would be exceeded.
    """
    public_url = manifest.public_url
    if not public_url:
        raise ConfigurationError(
            "no public URL: set IVRHOOKS_PUBLIC_URL (or RegistrationConfig(public_url=...)) to the "
            "base URL at which the PBX reaches this service, e.g. https://ivr.example.com"
        )
    state: dict[str, dict[str, DesiredUrl]] = {ext: {} for ext in manifest.receptionists}
    for entry in manifest.routes:
        if not entry.registered:
            continue  # static credentials: an operator owns this action URL
        route = entry.route
        url = public_url.rstrip("/") + entry.path
        if len(url) > MAX_URL:
            raise ConfigurationError(
                f"route {route.name!r}: its action URL {url!r} is {len(url)} characters; the PBX "
                f"keeps at most {MAX_URL}: shorten IVRHOOKS_PUBLIC_URL or the route's name"
            )
        creds = entry.credentials
        fields: dict[str, object] = {
            "enabled": True,  # the PBX's schema default is false (§4): always send true
            "type": route.kind,
            "method": manifest.method,
            "headers": "",
            # Full object on update (§4): the mask of the other type is cleared explicitly.
            "dtmf_mask": "",
            "caller_mask": "",
            "connection_timeout": manifest.request_timeout,
            "request_timeout": manifest.request_timeout,
            "url": url,
            "auth": AUTH_MODES[entry.scheme],
        }
        if entry.scheme in ("basic", "digest") and creds is not None:
            fields["username"], fields["password"] = creds.username, creds.password
        elif entry.scheme == "bearer" and creds is not None:
            fields["token"] = creds.token
        mask_field = "dtmf_mask" if route.kind == "DTMF" else "caller_mask"
        # One set of bodies per distinct mask ("otherwise" differs per receptionist).
        by_mask: dict[Mask, list[str]] = {}
        for ext in entry.receptionists:
            by_mask.setdefault(entry.masks[ext], []).append(ext)
        for mask, receptionists in by_mask.items():
            for number, chunk in enumerate(mask.chunks(MAX_MASK), start=1):
                name = owner.name(route.name, number, manifest.app_id)
                if len(name) > MAX_NAME:
                    raise ConfigurationError(
                        f"route {route.name!r}: action URL name {name!r} exceeds {MAX_NAME} "
                        "characters; shorten the route's name or its mask"
                    )
                try:
                    body = ActionUrlCreate.model_validate(
                        {**fields, "name": name, mask_field: chunk}
                    )
                except ValidationError as exc:
                    raise ConfigurationError(f"route {route.name!r}: {_first(exc)}") from None
                for ext in receptionists:
                    state[ext][name] = DesiredUrl(route=route.name, mask=mask, body=body)
    return state


def _first(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(p) for p in error["loc"]) or "action URL"
    return f"{where}: {error['msg']}"


def summary(state: Mapping[str, Mapping[str, DesiredUrl]]) -> str:
    """``"3 action URLs on 2 receptionists"``: for log lines."""
    total = sum(len(urls) for urls in state.values())
    return f"{total} action URLs on {len(state)} receptionists"
