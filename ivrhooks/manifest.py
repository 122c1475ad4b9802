"""The manifest: every route as it is served and registered, computed once at startup.

Pure: the declared route table and the resolved :class:`~ivrhooks.config.Config` in, a
:class:`Manifest` out. It is the one answer to "which path, which receptionists, which scheme,
which credentials" for each route; the server builds its verifiers from it and registration
builds the action URLs from it, so the two can never disagree. Every route gets a scheme here;
``none`` only when the route or the app says so explicitly.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from ivrhooks.conf.config import Config
from ivrhooks.core.auth.credentials import Credentials, derive_credentials
from ivrhooks.core.auth.static import StaticCredentials
from ivrhooks.core.masks import Mask
from ivrhooks.core.request import Handler
from ivrhooks.core.routes import Route, RouteTable
from ivrhooks.core.types import Method, Scheme
from ivrhooks.errors import ConfigurationError

__all__ = [
    "EVENT_PATHS",
    "EVENT_ROUTES",
    "DerivedAppId",
    "Manifest",
    "ManifestEvents",
    "ManifestRoute",
    "build_manifest",
    "derive_app_id",
]

#: Where PortSIP's events are received, by kind, from the service's root (not under the action
#: URLs' ``path_prefix``): what the tenant's ``cdr_event`` and ``extension_event`` point at.
EVENT_PATHS: Final = {"cdr": "/events/cdr", "extension": "/events/extension"}
#: The names their credentials are derived for, as a route's are from its name.
EVENT_ROUTES: Final = {"cdr": "events-cdr", "extension": "events-extension"}

_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True, slots=True)
class ManifestRoute:
    """One route: where it is served, for which receptionists, and how the PBX authenticates."""

    route: Route
    path: str
    receptionists: tuple[str, ...]
    scheme: Scheme
    credentials: Credentials | None
    """What the PBX must send, derived from the current secret; ``None`` for ``none`` and for
    static credentials."""
    masks: Mapping[str, Mask]
    """The mask it answers on each of its receptionists: the route's own, or for "otherwise"
    what the app's other DTMF routes leave on that receptionist."""
    fallback: Handler | None = None
    """What answers when its handler cannot: its own fallback, else the app's."""

    @property
    def name(self) -> str:
        return self.route.name

    @property
    def static(self) -> StaticCredentials | None:
        """Static credentials: an operator configured this action URL by hand."""
        return self.route.credentials

    @property
    def registered(self) -> bool:
        """Whether registration writes this route's action URLs (not for static credentials)."""
        return self.route.credentials is None


@dataclass(frozen=True, slots=True)
class ManifestEvents:
    """One of the two event endpoints: where it is served, how the PBX authenticates there."""

    kind: str
    """``"cdr"`` or ``"extension"``: the tenant's ``cdr_event`` or ``extension_event``."""
    path: str
    name: str
    """What its credentials derive from (``events-cdr``, ``events-extension``)."""
    scheme: Scheme
    """The app's scheme (``IVRHOOKS_AUTH``)."""
    credentials: Credentials | None
    """What the PBX must send, derived from the current secret; ``None`` for ``none``."""


@dataclass(frozen=True)
class Manifest:
    """The app's routes as served and registered."""

    routes: tuple[ManifestRoute, ...]
    table: RouteTable
    """The route table with the configured receptionists (``IVRHOOKS_RECEPTIONISTS`` applied)."""
    public_url: str | None
    method: Method
    request_timeout: int
    app_id: str
    """This app's identity in the names of the action URLs it owns (``registration.owner``)."""
    fallback: Handler | None = None
    """The app's fallback (``@app.fallback``): what answers when a route's handler cannot."""
    events: tuple[ManifestEvents, ...] = ()
    """The event endpoints (docs/events.md), served whatever handlers the app has."""

    @property
    def receptionists(self) -> tuple[str, ...]:
        """Every receptionist some route serves, the app's first, in a stable order."""
        return self.table.all_receptionists()

    def get(self, name: str) -> ManifestRoute | None:
        for entry in self.routes:
            if entry.name == name:
                return entry
        return None


def build_manifest(
    table: RouteTable, config: Config, *, app_name: str = "app", fallback: Handler | None = None
) -> Manifest:
    """The manifest of ``table`` under ``config``; raises :class:`ConfigurationError` naming the
    route and what to change. ``app_name`` (the app's module) goes into its derived identity."""
    if config.receptionists != table.receptionists:
        table = table.with_receptionists(config.receptionists)
    prefix = config.serving.path_prefix
    entries = []
    for route in table:
        receptionists = table.receptionists_of(route)
        if not receptionists:
            raise ConfigurationError(
                f"route {route.name!r} ({route.function}) serves no receptionist: set "
                "IVRHOOKS_RECEPTIONISTS, pass IVRHooks(receptionists=[...]), or "
                "receptionists=[...] to the decorator"
            )
        scheme = route.auth or config.auth.scheme
        if scheme == "none" and not (
            config.auth.allow_no_auth or "IVRHOOKS_AUTH" in config.from_env
        ):
            raise ConfigurationError(
                f"route {route.name!r}: auth='none' lets anyone who can reach the service drive "
                "the receptionist; pass IVRHooks(allow_no_auth=True) to mean it"
            )
        credentials = None
        if scheme != "none" and route.credentials is None:
            credentials = derive_credentials(config.secret, route.name)
        entries.append(
            ManifestRoute(
                route=route,
                path=f"{prefix}/{route.name}",
                receptionists=receptionists,
                scheme=scheme,
                credentials=credentials,
                masks={ext: table.mask_on(route, ext) for ext in receptionists},
                fallback=route.fallback if route.fallback is not None else fallback,
            )
        )
    taken = sorted({entry.path for entry in entries} & set(EVENT_PATHS.values()))
    if taken:
        raise ConfigurationError(
            f"the action URL {taken[0]} is where PortSIP's events are received; rename the "
            "route or change IVRHOOKS_PATH_PREFIX"
        )
    scheme = config.auth.scheme
    events = tuple(
        ManifestEvents(
            kind=kind,
            path=path,
            name=EVENT_ROUTES[kind],
            scheme=scheme,
            credentials=None
            if scheme == "none"
            else derive_credentials(config.secret, EVENT_ROUTES[kind]),
        )
        for kind, path in EVENT_PATHS.items()
    )
    return Manifest(
        routes=tuple(entries),
        events=events,
        table=table,
        public_url=config.registration.public_url,
        method=config.registration.method,
        request_timeout=config.registration.request_timeout,
        app_id=config.registration.app_id
        or derive_app_id(app_name, config.registration.public_url),
        fallback=fallback,
    )


class DerivedAppId(str):
    """An app id :func:`derive_app_id` made: the six characters, remembering the module and
    public URL they come from, so registration can recognise this app's own entries registered
    from another public URL (a move) by the id the same module derives there. An id set with
    ``IVRHOOKS_APP_ID`` is a plain ``str``: it names the app wherever it runs."""

    app_name: str
    public_url: str | None

    def at(self, public_url: str) -> str:
        """The id this app's module derives at ``public_url``."""
        return _six(self.app_name, public_url)


def derive_app_id(app_name: str, public_url: str | None) -> DerivedAppId:
    """Six base-36 characters from the app's module name and its public URL."""
    derived = DerivedAppId(_six(app_name, public_url))
    derived.app_name, derived.public_url = app_name, public_url
    return derived


def _six(app_name: str, public_url: str | None) -> str:
    digest = hashlib.sha256(f"{app_name}\x00{public_url or ''}".encode()).digest()
    number = int.from_bytes(digest[:8], "big")
    out = []
    for _ in range(6):
        number, digit = divmod(number, 36)
        out.append(_DIGITS[digit])
    return "".join(out)
