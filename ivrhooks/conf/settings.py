"""The ``IVRHOOKS_*`` variables, read when the app starts (never when its module is imported).

:data:`VARIABLES` lists them, derived from the settings' declarations (:mod:`.declare`); so is
the README's configuration table (:func:`readme_rows`, compared with the README by a test).
:func:`resolve` lays the variables that are set over the code's configuration objects
(:mod:`.config`), then runs the cross-setting checks (:mod:`.checks`); every problem names the
variable, or the code argument, and the value tried.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ivrhooks.conf import checks
from ivrhooks.conf.config import (
    GROUPS,
    AppSettings,
    AuthConfig,
    CaptureConfig,
    Config,
    EventsConfig,
    PBXConfig,
    RegistrationConfig,
    ServingConfig,
    StoreConfig,
)
from ivrhooks.conf.declare import Setting, declared, readme_default, setting_error
from ivrhooks.conf.rules import Parse
from ivrhooks.core.auth.credentials import generate_secret
from ivrhooks.errors import ConfigurationError

__all__ = [
    "ENV_PREFIX",
    "PRODUCTION_SIGNALS",
    "VARIABLES",
    "Declared",
    "Variable",
    "read_group",
    "readme_rows",
    "resolve",
    "unknown_variables",
    "variable_for",
]

ENV_PREFIX = "IVRHOOKS_"


@dataclass(frozen=True)
class Variable:
    """One ``IVRHOOKS_*`` variable: the setting it overrides (``group.field``) and its
    declaration."""

    name: str
    group: str
    """The key of its group in :data:`~ivrhooks.conf.config.GROUPS`: ``"serving"``."""
    field: str
    setting: Setting
    default: Any

    @property
    def parse(self) -> Parse:
        assert self.setting.parse is not None, "a variable is declared with its parser"
        return self.setting.parse

    @property
    def secret(self) -> bool:
        return self.setting.secret

    def readme_row(self) -> str:
        """``| `IVRHOOKS_DEADLINE` | the answer budget ... | `1.5` |``."""
        cells = (f"`{self.name}`", self.setting.doc, readme_default(self.setting, self.default))
        return "|" + "|".join(f" {cell} " if cell else " " for cell in cells) + "|"


def _variables() -> tuple[Variable, ...]:
    found = []
    for group, cls in GROUPS.items():
        for field, declared_as, default in declared(cls):
            if declared_as.env is not None:
                found.append(Variable(declared_as.env, group, field, declared_as, default))
    names = [v.name for v in found]
    assert len(set(names)) == len(names), "each variable is declared once"
    return tuple(found)


VARIABLES = _variables()

#: Variables that say "a real PBX is meant": set without IVRHOOKS_PBX_URL, they stop startup
#: instead of silently starting the embedded fake PBX.
PRODUCTION_SIGNALS = tuple(v.name for v in VARIABLES if v.setting.means_real_pbx)

_BY_NAME = {v.name: v for v in VARIABLES}
_CODE_NAMES = {group: cls.spelled or cls.__name__ for group, cls in GROUPS.items()}
_APP_DEFAULTS = AppSettings()


def variable_for(group: str, field: str) -> Variable | None:
    """The variable that overrides ``group.field``, if there is one."""
    for variable in VARIABLES:
        if variable.group == group and variable.field == field:
            return variable
    return None


def readme_rows() -> list[str]:
    """The README's configuration table: its header, then a row per variable."""
    header = ["| variable | meaning | default |", "|---|---|---|"]
    return header + [variable.readme_row() for variable in VARIABLES]


@dataclass(frozen=True)
class Declared:
    """What the app's code says, before the environment is consulted."""

    receptionists: tuple[str, ...] = _APP_DEFAULTS.receptionists
    auth: AuthConfig = dataclasses.field(default_factory=AuthConfig)
    pbx: PBXConfig | None = None
    registration: RegistrationConfig = dataclasses.field(default_factory=RegistrationConfig)
    serving: ServingConfig = dataclasses.field(default_factory=ServingConfig)
    store: StoreConfig = dataclasses.field(default_factory=StoreConfig)
    events: EventsConfig = dataclasses.field(default_factory=EventsConfig)
    capture: CaptureConfig = dataclasses.field(default_factory=CaptureConfig)
    embedded_pbx: bool | None = _APP_DEFAULTS.embedded_pbx
    """``True``: embed the fake PBX; ``False``: never; ``None``: only when nothing says
    "production" (no PBX URL, login, token, secret, public URL or app id is set)."""


def _read(
    environ: Mapping[str, str], group: str | None = None
) -> tuple[dict[tuple[str, str], Any], list[str]]:
    """The variables that are set (of ``group``, or all), parsed and checked:
    ``{(group, field): value}``."""
    values: dict[tuple[str, str], Any] = {}
    problems: list[str] = []
    for name, raw in environ.items():
        if not name.startswith(ENV_PREFIX):
            continue
        variable = _BY_NAME.get(name)
        if variable is None or (group is not None and variable.group != group):
            continue  # unknown names: see unknown_variables()
        if not raw.strip():
            continue  # VAR= in an env file means "not set"
        try:
            value = variable.parse(raw)
        except ValueError as exc:
            problems.append(str(setting_error(name, variable.setting, raw, str(exc))))
            continue
        problem = variable.setting.problem(value)
        if problem is not None:
            # The text as the user typed it ('0', '1e999'), not what it parsed to (0.0, inf).
            problems.append(str(setting_error(name, variable.setting, raw, problem)))
            continue
        values[(variable.group, variable.field)] = value
    return values, problems


def read_group(group: str, environ: Mapping[str, str]) -> dict[str, tuple[str, Any]]:
    """The variables of one group that are set, parsed and checked by their declarations:
    ``{field: (variable, value)}``. For ``"run"``, read by ``ivrhooks run`` itself (the app
    does not use them), so that a bad ``IVRHOOKS_PORT`` is reported as every other variable
    is. Raises :class:`ConfigurationError` naming each bad variable and its value."""
    values, problems = _read(environ, group)
    if problems:
        raise ConfigurationError("; ".join(problems))
    names = {(v.group, v.field): v.name for v in VARIABLES}
    return {key[1]: (names[key], value) for key, value in values.items()}


def unknown_variables(environ: Mapping[str, str]) -> list[tuple[str, str | None]]:
    """``IVRHOOKS_*`` names that are not settings, each with the closest known name."""
    out = []
    for name in environ:
        if name.startswith(ENV_PREFIX) and name not in _BY_NAME:
            close = difflib.get_close_matches(name, list(_BY_NAME), n=1, cutoff=0.6)
            out.append((name, close[0] if close else None))
    return sorted(out)


def resolve(declared: Declared, environ: Mapping[str, str]) -> Config:
    """The app's configuration: ``declared``, with every ``IVRHOOKS_*`` variable that is set
    laid over it. Raises :class:`ConfigurationError` listing every problem, each naming the
    variable or argument to change."""
    values, problems = _read(environ)
    for name, close in unknown_variables(environ):
        hint = f"; did you mean {close}?" if close else "; the settings are listed in the README"
        problems.append(f"{name} is not an ivrhooks setting{hint}")
    if problems:
        raise ConfigurationError("; ".join(problems))
    variables = {key: v.name for v in VARIABLES if (key := (v.group, v.field)) in values}

    def overlay(group: str, current: Any) -> Any:
        # IVRHOOKS_HOST / IVRHOOKS_PORT ("run") are the CLI's (read_group); checked above.
        changes = {f: v for (g, f), v in values.items() if g == group}
        return current.replace(**changes) if changes else current

    auth: AuthConfig = overlay("auth", declared.auth)
    registration: RegistrationConfig = overlay("registration", declared.registration)
    serving: ServingConfig = overlay("serving", declared.serving)
    store: StoreConfig = overlay("store", declared.store)
    events: EventsConfig = overlay("events", declared.events)
    capture: CaptureConfig = overlay("capture", declared.capture)
    receptionists = values.get(("app", "receptionists"), declared.receptionists)
    pbx = declared.pbx
    pbx_values = {f: v for (g, f), v in values.items() if g == "pbx"}
    if pbx is None and "url" in pbx_values:
        pbx = PBXConfig(**pbx_values)
    elif pbx is not None:
        pbx = overlay("pbx", pbx)
    embedded = values.get(("app", "embedded_pbx"), declared.embedded_pbx)
    secret_generated = auth.secret is None and pbx is None
    if secret_generated:  # one process, no PBX: nothing else needs to know the secret
        auth = auth.replace(secret=generate_secret())
    draft = checks.Draft(
        auth=auth,
        pbx=pbx,
        registration=registration,
        serving=serving,
        embedded=embedded,
        signals=tuple(name for name in PRODUCTION_SIGNALS if environ.get(name, "").strip()),
        variables=variables,
        code_names=_CODE_NAMES,
    )
    problems = checks.problems(draft)
    if problems:
        raise ConfigurationError("; ".join(problems))
    return Config(
        receptionists=tuple(receptionists),
        auth=auth,
        pbx=pbx,
        registration=registration,
        serving=serving,
        store=store,
        events=events,
        capture=capture,
        secret_generated=secret_generated,
        from_env=frozenset(variables.values()),
        embedded_pbx=pbx is None and embedded is not False and registration.enabled,
        embedded_explicit=bool(embedded),
    )
