"""Configuration as a few objects: what the app's code declares, grouped the way httpx groups
``Timeout`` and ``Limits``.

::

    IVRHooks(
        receptionists=["8000"],
        auth=AuthConfig(scheme="digest", allow=["192.0.2.0/24"]),   # or just auth="digest"
        pbx=PBXConfig("https://pbx.example.com:8887/api", username=..., password=...),
        registration=RegistrationConfig(public_url="https://ivr.example.com", method="GET"),
        serving=ServingConfig(deadline=1.2),
        store=StoreConfig(redis_url="redis://redis:6379/0"),
    )

These are the code's defaults. When the app starts, :func:`ivrhooks.conf.settings.resolve` lays
the ``IVRHOOKS_*`` variables over them (a variable that is set wins) and returns one
:class:`Config`. Every field is declared once (:mod:`ivrhooks.conf.declare`), in
:mod:`.inbound` (auth, serving) and :mod:`.outbound` (PBX, registration, store); the two groups
here, :class:`AppSettings` and :class:`RunSettings`, declare the variables that belong to no
configuration object. :data:`GROUPS` names them all, in the README's order.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import urlsplit

from ivrhooks.conf import rules
from ivrhooks.conf.capture import CaptureConfig
from ivrhooks.conf.declare import Group, setting
from ivrhooks.conf.events import EventsConfig
from ivrhooks.conf.inbound import AuthConfig, ServingConfig
from ivrhooks.conf.outbound import PBXConfig, RegistrationConfig, StoreConfig

__all__ = [
    "GROUPS",
    "AppSettings",
    "AuthConfig",
    "CaptureConfig",
    "Config",
    "EventsConfig",
    "PBXConfig",
    "RegistrationConfig",
    "RunSettings",
    "ServingConfig",
    "StoreConfig",
]


@dataclass(frozen=True, kw_only=True)
class AppSettings(Group):
    """The app's own settings, given to ``IVRHooks(...)`` (and ``configure()``) rather than to a
    configuration object: declared here so their variables are declared once too."""

    spelled: ClassVar[str] = "IVRHooks"

    embedded_pbx: bool | None = setting(
        None,
        doc="`true`: `ivrhooks run` embeds the fake PBX and registers there; `false`: never (a "
        "PBX URL is then required)",
        rule=rules.optional(rules.boolean),
        env="IVRHOOKS_EMBEDDED_PBX",
        parse=rules.parse_boolean,
        readme_default="unset: embedded only when no PBX URL, login, token, secret, public URL "
        "or app id is set; any of those without a PBX URL stops startup naming it",
    )
    receptionists: tuple[str, ...] = setting(
        (),
        doc="comma-separated extension numbers; overrides the app's",
        rule=rules.receptionists,
        env="IVRHOOKS_RECEPTIONISTS",
        parse=rules.comma_list,
    )


@dataclass(frozen=True, kw_only=True)
class RunSettings(Group):
    """Where ``ivrhooks run`` serves: read by the command (click's ``envvar=``), not by the app,
    so a container sets them once and its health check reads the same port."""

    spelled: ClassVar[str] = "ivrhooks run"

    host: str = setting(
        "127.0.0.1",
        doc="the address `ivrhooks run` serves on (its `--host`)",
        rule=rules.text,
        env="IVRHOOKS_HOST",
        parse=rules.trimmed,
    )
    port: int = setting(
        8080,
        doc="the port `ivrhooks run` serves on (its `--port`; `0`: any free port); the Docker "
        "health check reads it",
        rule=rules.integer(0, 65535),
        env="IVRHOOKS_PORT",
        parse=rules.parse_integer,
    )
    pbx_password: str | None = setting(
        None,
        doc="the embedded fake PBX's REST password (login `admin`; `ivrhooks run --pbx-password`)",
        rule=rules.text,
        env="IVRHOOKS_EMBEDDED_PBX_PASSWORD",
        parse=rules.trimmed,
        readme_default="generated per process and printed at startup",
        secret=True,
    )


#: Every group of settings by the name variables are filed under, in the README's order.
GROUPS: dict[str, type[Group]] = {
    "pbx": PBXConfig,
    "app": AppSettings,
    "auth": AuthConfig,
    "registration": RegistrationConfig,
    "serving": ServingConfig,
    "store": StoreConfig,
    "events": EventsConfig,
    "capture": CaptureConfig,
    "run": RunSettings,
}


@dataclass(frozen=True)
class Config:
    """The resolved configuration an app starts with: code defaults, then the environment."""

    receptionists: tuple[str, ...]
    auth: AuthConfig
    pbx: PBXConfig | None
    registration: RegistrationConfig
    serving: ServingConfig
    store: StoreConfig = field(default_factory=StoreConfig)
    events: EventsConfig = field(default_factory=EventsConfig)
    capture: CaptureConfig = field(default_factory=CaptureConfig)
    secret_generated: bool = False
    """No secret was configured and there is no PBX: one was generated for this process."""
    from_env: frozenset[str] = frozenset()
    """The ``IVRHOOKS_*`` variables that were set (for messages and logs)."""
    embedded_pbx: bool = False
    """No real PBX is configured and nothing says "production": ``ivrhooks run`` embeds the fake
    PBX (and then sets ``pbx`` to it). Under plain uvicorn the app then registers nowhere."""
    embedded_explicit: bool = False
    """The embedded fake PBX was asked for (``IVRHOOKS_EMBEDDED_PBX=true``)."""

    @property
    def registers(self) -> bool:
        """Whether the app registers its action URLs anywhere: a PBX and registration on."""
        return self.pbx is not None and self.registration.enabled

    @property
    def registers_on(self) -> str:
        """Which PBX the app registers on, for the startup log and ``/readyz``: the PBX's host
        and port (never a login), ``"embedded"``, or ``"none"``."""
        if self.pbx is None or not self.registers:
            return "none"
        if self.embedded_pbx:
            return "embedded"
        # The URL is refused with a login in it; rpartition keeps even a hand-built one out.
        return urlsplit(self.pbx.url).netloc.rpartition("@")[2] or "?"

    def replace(self, **changes: Any) -> Config:
        return dataclasses.replace(self, **changes)

    @property
    def secret(self) -> str:
        assert self.auth.secret is not None, "resolve() always sets a secret"
        return self.auth.secret
