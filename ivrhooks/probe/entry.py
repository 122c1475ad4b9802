"""The probe's entries on the PBX: checked for room, written, and removed again.

The probe needs a receptionist of its own: its DTMF mask is ``ALL`` (PBX v22.6.0+), and which
of two matching action URLs the PBX fires is not documented (reference/portsip.md §3), so an
entry of anyone else's on the same receptionist could take the calls meant for the probe. It
refuses one that holds other entries unless told (``force``). Its entries are named as
ivrhooks names its own (``ivrhooks:<route>@<id>``, :mod:`ivrhooks.registration.owner`), with
the routes ``probe`` and ``probe-caller``: an app never takes them for its own, and a later
probe knows an earlier one's leftovers (a run killed with SIGKILL) and removes them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from ivrhooks.core.types import AUTH_MODES, MAX_ACTION_URL, Method, Scheme
from ivrhooks.errors import ConfigurationError, PBXNotFoundError, PBXValidationError
from ivrhooks.pbx import PBXClient
from ivrhooks.registration.owner import entry_name, parse_name
from ivrhooks.registration.resolve import resolve_receptionists
from ivrhooks.schema.models import ActionUrl

__all__ = ["PROBE_ROUTES", "Entry", "Receptionist", "is_probe_entry", "open_receptionist"]

#: The route names of the probe's entries: a DTMF one, and a CALLER one when asked for.
PROBE_ROUTES = {"DTMF": "probe", "CALLER": "probe-caller"}


def is_probe_entry(url: ActionUrl) -> bool:
    """Whether ``url`` was written by a probe (this run's or an earlier one's)."""
    parsed = parse_name(url.name)
    return parsed is not None and parsed.route in PROBE_ROUTES.values()


@dataclass(frozen=True)
class Entry:
    """One action URL the probe wrote (what the report shows of it: no secret)."""

    id: str
    name: str
    type: Literal["DTMF", "CALLER"]
    mask: str
    method: Method
    url: str
    auth: Scheme
    request_timeout: int
    connection_timeout: int

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Receptionist:
    """The receptionist the probe works on, once checked."""

    client: PBXClient
    extension: str
    id: str
    leftovers: list[str]
    """Names of an earlier probe's entries, removed before this run."""
    others: list[str]
    """Names of entries that are not a probe's (left alone; only with ``force``)."""

    async def add(
        self,
        kind: Literal["DTMF", "CALLER"],
        *,
        probe_id: str,
        mask: str,
        url: str,
        method: Method,
        scheme: Scheme,
        credentials: dict[str, str],
        headers: str,
        seconds: int,
    ) -> Entry:
        """Write one entry (``seconds``: its request and connection timeouts); a mask or URL
        the PBX refuses says which option to change."""
        if len(url) > MAX_ACTION_URL:
            raise ConfigurationError(
                f"--public-url: the probe's action URL {url!r} is {len(url)} characters; the "
                f"PBX keeps at most {MAX_ACTION_URL}: use a shorter public URL"
            )
        name = entry_name(PROBE_ROUTES[kind], 1, probe_id)
        fields: dict[str, Any] = {
            "name": name,
            "enabled": True,  # the PBX's schema default is false (reference §4)
            "type": kind,
            "method": method,
            "headers": headers,
            "dtmf_mask": mask if kind == "DTMF" else "",
            "caller_mask": mask if kind == "CALLER" else "",
            "connection_timeout": seconds,
            "request_timeout": seconds,
            "url": url,
            "auth": AUTH_MODES[scheme],
            **credentials,
        }
        try:
            url_id = await self.client.action_urls.create(self.id, **fields)
        except PBXValidationError as exc:
            option = "--dtmf-mask" if kind == "DTMF" else "--caller-mask"
            raise ConfigurationError(
                f"the PBX refused the probe's {kind} action URL ({exc}); a build older than "
                f"v22.6.0 has no ALL mask: pass {option} with a mask it knows (e.g. 0-99999)"
            ) from None
        return Entry(url_id, name, kind, mask, method, url, scheme, seconds, seconds)

    async def remove(self, entries: Sequence[Entry]) -> None:
        """Delete ``entries``; one already gone is no error."""
        for entry in entries:
            with contextlib.suppress(PBXNotFoundError):
                await self.client.action_urls.destroy(self.id, entry.id)


async def open_receptionist(client: PBXClient, extension: str, *, force: bool) -> Receptionist:
    """Find the receptionist, remove an earlier probe's leftovers, and refuse one that holds
    other entries unless ``force``."""
    ivr_id = (await resolve_receptionists(client, [extension]))[extension]
    urls = await client.action_urls.list(ivr_id)
    leftovers = [u for u in urls if is_probe_entry(u)]
    others = [u.name or f"(unnamed, id {u.id})" for u in urls if not is_probe_entry(u)]
    if others and not force:
        raise ConfigurationError(
            f"receptionist {extension} holds {len(others)} action URL(s) that are not the "
            f"probe's ({', '.join(others)}); the probe needs a receptionist of its own, since "
            "which of two matching action URLs fires is not documented: give another with "
            "--receptionist, or pass --force to probe beside them (they are left as they are)"
        )
    for url in leftovers:
        with contextlib.suppress(PBXNotFoundError):
            await client.action_urls.destroy(ivr_id, url.id)
    return Receptionist(client, extension, ivr_id, [u.name or "" for u in leftovers], others)
