"""The ``IVRHOOKS_*`` variables, read when the app starts (never when its module is imported).

:data:`VARIABLES` is the one list of them; the README's configuration table is checked against it
by a test. :func:`resolve` lays the variables that are set over the code's configuration objects
(:mod:`ivrhooks.config`) and checks the whole; every problem names the variable, or the code
argument, and the value tried.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ivrhooks.conf.config import (
    AuthConfig,
    Config,
    PBXConfig,
    RegistrationConfig,
    ServingConfig,
    StoreConfig,
    check_field,
    setting_error,
)
from ivrhooks.core.auth.credentials import MIN_SECRET_LENGTH, generate_secret
from ivrhooks.errors import ConfigurationError, SettingError

__all__ = [
    "ENV_PREFIX",
    "VARIABLES",
    "Declared",
    "Variable",
    "resolve",
    "unknown_variables",
    "variable_for",
]

ENV_PREFIX = "IVRHOOKS_"


def _text(raw: str) -> str:
    return raw.strip()


def _upper(raw: str) -> str:
    return raw.strip().upper()


def _lower(raw: str) -> str:
    return raw.strip().lower()


def _list(raw: str) -> tuple[str, ...]:
    # A comma-separated list ("8000,8001"), not JSON: what people type in an env file.
    return tuple(item.strip() for item in raw.split(",") if item.strip())


def _upper_list(raw: str) -> tuple[str, ...]:
    return tuple(item.upper() for item in _list(raw))


def _boolean(raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError("must be true or false")


def _integer(raw: str) -> int:
    try:
        return int(raw.strip())
    except ValueError:
        raise ValueError("must be a whole number") from None


def _number(raw: str) -> float:
    try:
        return float(raw.strip())
    except ValueError:
        raise ValueError("must be a number") from None


@dataclass(frozen=True)
class Variable:
    """One ``IVRHOOKS_*`` variable: the setting it overrides and how its text is read."""

    name: str
    group: str  # "auth", "pbx", "registration", "serving" or "app"
    field: str
    parse: Callable[[str], Any]
    secret: bool = False


VARIABLES: tuple[Variable, ...] = (
    Variable("IVRHOOKS_PBX_URL", "pbx", "url", _text),
    Variable("IVRHOOKS_PBX_USERNAME", "pbx", "username", _text),
    Variable("IVRHOOKS_PBX_PASSWORD", "pbx", "password", _text, secret=True),
    Variable("IVRHOOKS_PBX_DOMAIN", "pbx", "domain", _text),
    Variable("IVRHOOKS_PBX_TOKEN", "pbx", "token", _text, secret=True),
    Variable("IVRHOOKS_PBX_VERIFY_TLS", "pbx", "verify_tls", _boolean),
    Variable("IVRHOOKS_PBX_RATE", "pbx", "rate", _integer),
    Variable("IVRHOOKS_PUBLIC_URL", "registration", "public_url", _text),
    Variable("IVRHOOKS_SECRET", "auth", "secret", _text, secret=True),
    Variable("IVRHOOKS_PREVIOUS_SECRET", "auth", "previous_secret", _text, secret=True),
    Variable("IVRHOOKS_AUTH", "auth", "scheme", _lower),
    Variable("IVRHOOKS_RECEPTIONISTS", "app", "receptionists", _list),
    Variable("IVRHOOKS_METHOD", "registration", "method", _upper),
    Variable("IVRHOOKS_SERVE_METHODS", "serving", "methods", _upper_list),
    Variable("IVRHOOKS_REQUEST_TIMEOUT", "registration", "request_timeout", _integer),
    Variable("IVRHOOKS_DEADLINE", "serving", "deadline", _number),
    Variable("IVRHOOKS_SESSION_TTL", "serving", "session_ttl", _number),
    Variable("IVRHOOKS_METRICS_ROUTE_LABEL", "serving", "route_label", _boolean),
    Variable("IVRHOOKS_ALLOW", "auth", "allow", _list),
    Variable("IVRHOOKS_TRUSTED_PROXIES", "auth", "trusted_proxies", _list),
    Variable("IVRHOOKS_OPS_ALLOW", "auth", "ops_allow", _list),
    Variable("IVRHOOKS_OPS_HOSTS", "auth", "ops_hosts", _list),
    Variable("IVRHOOKS_RECONCILE_INTERVAL", "registration", "interval", _number),
    Variable("IVRHOOKS_APP_ID", "registration", "app_id", _text),
    Variable("IVRHOOKS_REGISTER", "registration", "enabled", _boolean),
    Variable("IVRHOOKS_GENERATION", "registration", "generation", _integer),
    Variable("IVRHOOKS_REGISTRAR_LEASE", "registration", "lease_ttl", _number),
    Variable("IVRHOOKS_EMBEDDED_PBX", "app", "embedded_pbx", _boolean),
    Variable("IVRHOOKS_REDIS_URL", "store", "redis_url", _text, secret=True),
    # Read by `ivrhooks run` (its --host/--port), not by the app: a container sets them once and
    # its health check reads the same port.
    Variable("IVRHOOKS_HOST", "run", "host", _text),
    Variable("IVRHOOKS_PORT", "run", "port", _integer),
)

#: Variables that say "a real PBX is meant": set without IVRHOOKS_PBX_URL, they stop startup
#: instead of silently starting the embedded fake PBX.
PRODUCTION_SIGNALS = (
    "IVRHOOKS_PBX_USERNAME",
    "IVRHOOKS_PBX_PASSWORD",
    "IVRHOOKS_PBX_TOKEN",
    "IVRHOOKS_PBX_DOMAIN",
    "IVRHOOKS_SECRET",
    "IVRHOOKS_PREVIOUS_SECRET",
    "IVRHOOKS_PUBLIC_URL",
    "IVRHOOKS_APP_ID",
)

_BY_NAME = {v.name: v for v in VARIABLES}
_CLASSES = {
    "auth": "AuthConfig",
    "pbx": "PBXConfig",
    "registration": "RegistrationConfig",
    "serving": "ServingConfig",
    "store": "StoreConfig",
    "app": "IVRHooks",
    "run": "ivrhooks run",
}


def variable_for(group: str, field: str) -> Variable | None:
    """The variable that overrides ``group.field``, if there is one."""
    for variable in VARIABLES:
        if variable.group == group and variable.field == field:
            return variable
    return None


@dataclass(frozen=True)
class Declared:
    """What the app's code says, before the environment is consulted."""

    receptionists: tuple[str, ...] = ()
    auth: AuthConfig = dataclasses.field(default_factory=AuthConfig)
    pbx: PBXConfig | None = None
    registration: RegistrationConfig = dataclasses.field(default_factory=RegistrationConfig)
    serving: ServingConfig = dataclasses.field(default_factory=ServingConfig)
    store: StoreConfig = dataclasses.field(default_factory=StoreConfig)
    embedded_pbx: bool | None = None
    """``True``: embed the fake PBX; ``False``: never; ``None``: only when nothing says
    "production" (no PBX URL, login, token, secret, public URL or app id is set)."""


def _read(environ: Mapping[str, str]) -> tuple[dict[tuple[str, str], Any], list[str]]:
    """The variables that are set, parsed and checked: ``{(group, field): value}``."""
    values: dict[tuple[str, str], Any] = {}
    problems: list[str] = []
    for name, raw in environ.items():
        if not name.startswith(ENV_PREFIX):
            continue
        variable = _BY_NAME.get(name)
        if variable is None:
            continue  # unknown names: see unknown_variables()
        if not raw.strip():
            continue  # VAR= in an env file means "not set"
        try:
            value = variable.parse(raw)
        except ValueError as exc:
            problems.append(str(setting_error(name, variable.field, raw, str(exc))))
            continue
        try:
            check_field(variable.group, variable.field, value, spelled=name)
        except SettingError as exc:
            # The text as the user typed it ('0', '1e999'), not what it parsed to (0.0, inf).
            problems.append(str(setting_error(name, variable.field, raw, exc.problem)))
            continue
        values[(variable.group, variable.field)] = value
    return values, problems


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
    spelled: dict[tuple[str, str], str] = {}

    def spell(group: str, field: str, value: Any = ...) -> str:
        """How the user wrote it: ``IVRHOOKS_DEADLINE=3`` or ``ServingConfig(deadline=3)``."""
        if (group, field) in spelled:
            name = spelled[(group, field)]
            return name if value is ... else f"{name}={value!r}"
        shown = "..." if value is ... else repr(value)
        return f"{_CLASSES[group]}({field}={shown})"

    for variable in VARIABLES:
        if (variable.group, variable.field) in values:
            spelled[(variable.group, variable.field)] = variable.name

    def overlay(group: str, current: Any) -> Any:
        # IVRHOOKS_HOST / IVRHOOKS_PORT ("run") are the CLI's; they were checked above.
        changes = {f: v for (g, f), v in values.items() if g == group}
        return current.replace(**changes) if changes else current

    auth: AuthConfig = overlay("auth", declared.auth)
    registration: RegistrationConfig = overlay("registration", declared.registration)
    serving: ServingConfig = overlay("serving", declared.serving)
    store: StoreConfig = overlay("store", declared.store)
    receptionists = values.get(("app", "receptionists"), declared.receptionists)
    pbx = declared.pbx
    pbx_values = {f: v for (g, f), v in values.items() if g == "pbx"}
    if pbx is None and "url" in pbx_values:
        pbx = PBXConfig(**pbx_values)
    elif pbx is not None:
        pbx = overlay("pbx", pbx)

    embedded = values.get(("app", "embedded_pbx"), declared.embedded_pbx)
    signals = [name for name in PRODUCTION_SIGNALS if environ.get(name, "").strip()]
    if not registration.enabled:
        if embedded:  # serving only: there is nothing to embed a PBX for
            problems.append(
                f"{spell('app', 'embedded_pbx', True)} and "
                f"{spell('registration', 'enabled', False)}: the embedded PBX exists to be "
                "registered on; choose one"
            )
    elif pbx is not None and embedded:
        problems.append(
            f"{spell('app', 'embedded_pbx', True)} and a PBX at {pbx.url}: choose one (unset "
            "IVRHOOKS_PBX_URL for the embedded fake PBX, or IVRHOOKS_EMBEDDED_PBX for the real one)"
        )
    elif pbx is None and embedded is False:
        problems.append(
            f"no PBX: set IVRHOOKS_PBX_URL to the PBX's REST API (e.g. "
            f"https://pbx.example.com:8887/api); {spell('app', 'embedded_pbx', False)} says not to "
            "start the embedded fake PBX"
        )
    elif pbx is None and embedded is None and signals:
        problems.append(
            f"{', '.join(signals)} {'is' if len(signals) == 1 else 'are'} set but IVRHOOKS_PBX_URL "
            "is not: set IVRHOOKS_PBX_URL to the PBX's REST API (e.g. "
            "https://pbx.example.com:8887/api), IVRHOOKS_EMBEDDED_PBX=true to run against the "
            "embedded fake PBX, or IVRHOOKS_REGISTER=false to serve without registering"
        )
    if pbx is not None and not pbx.token and not (pbx.username and pbx.password):
        problems.append(
            f"the PBX at {pbx.url} needs a login: set IVRHOOKS_PBX_USERNAME and "
            "IVRHOOKS_PBX_PASSWORD (and IVRHOOKS_PBX_DOMAIN for a tenant), or IVRHOOKS_PBX_TOKEN"
        )
    secret_generated = False
    if auth.secret is None:
        if pbx is not None:
            problems.append(
                "no secret: set IVRHOOKS_SECRET (or AuthConfig(secret=...)) to a long random "
                "string, the same on every replica; action-URL credentials and digest nonces "
                "derive from it"
            )
        else:
            auth, secret_generated = auth.replace(secret=generate_secret()), True
    for name in ("secret", "previous_secret"):
        value = getattr(auth, name)
        if value is not None and len(value.encode()) < MIN_SECRET_LENGTH:
            problems.append(
                f"{spell('auth', name)}: must be at least {MIN_SECRET_LENGTH} bytes; create one "
                "with `python -c 'import ivrhooks.auth as a; print(a.generate_secret())'`"
            )
    if auth.previous_secret is not None and auth.previous_secret == auth.secret:
        problems.append(f"{spell('auth', 'previous_secret')}: must differ from the current secret")
    if serving.methods and registration.method not in serving.methods:
        problems.append(
            f"{spell('serving', 'methods', serving.methods)}: must include the registered method "
            f"({spell('registration', 'method', registration.method)}), or the PBX's own "
            "requests get 405"
        )
    timeout = registration.request_timeout
    if not serving.deadline < timeout:
        problems.append(
            f"{spell('serving', 'deadline', serving.deadline)}: the answer budget must be below "
            f"the PBX's request_timeout ({spell('registration', 'request_timeout', timeout)}), "
            "or the PBX gives up before the fallback answers"
        )
    if auth.scheme == "none" and not auth.allow_no_auth and ("auth", "scheme") not in values:
        problems.append(
            "auth='none' lets anyone who can reach the service drive the receptionists; "
            "pass allow_no_auth=True to mean it, or choose basic, digest or bearer"
        )
    if problems:
        raise ConfigurationError("; ".join(problems))
    return Config(
        receptionists=tuple(receptionists),
        auth=auth,
        pbx=pbx,
        registration=registration,
        serving=serving,
        store=store,
        secret_generated=secret_generated,
        from_env=frozenset(spelled.values()),
        embedded_pbx=pbx is None and embedded is not False and registration.enabled,
        embedded_explicit=bool(embedded),
    )
