"""What the probe reads from ``IVRHOOKS_*``: the PBX and its login, the public URL, the method
and the request timeout, each parsed and checked by its own declaration (:mod:`ivrhooks.conf`).

Not through ``resolve()``: that checks a whole app's configuration (a secret, an answer budget
below the timeout), none of which a probe has. The variables mean what they mean for an app,
so an operator probes with the environment their app will run with.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ivrhooks.conf.config import PBXConfig
from ivrhooks.conf.declare import setting_error
from ivrhooks.conf.settings import variable_for
from ivrhooks.core.types import Method
from ivrhooks.errors import ConfigurationError

__all__ = ["ProbeEnvironment", "public_url_problem", "read_environment"]

_PBX_FIELDS = ("url", "username", "password", "domain", "token", "verify_tls", "rate")


@dataclass(frozen=True)
class ProbeEnvironment:
    pbx: PBXConfig
    public_url: str | None
    method: Method | None
    request_timeout: int | None


def _value(group: str, field: str, environ: Mapping[str, str], problems: list[str]) -> Any:
    variable = variable_for(group, field)
    assert variable is not None, f"{group}.{field} has a variable"
    raw = environ.get(variable.name, "")
    if not raw.strip():
        return None
    try:
        value = variable.parse(raw)
    except ValueError as exc:
        problems.append(str(setting_error(variable.name, variable.setting, raw, str(exc))))
        return None
    problem = variable.setting.problem(value)
    if problem is not None:
        problems.append(str(setting_error(variable.name, variable.setting, raw, problem)))
        return None
    return value


def read_environment(environ: Mapping[str, str]) -> ProbeEnvironment:
    """The probe's settings; :class:`ConfigurationError` names every variable to change."""
    problems: list[str] = []
    pbx = {f: v for f in _PBX_FIELDS if (v := _value("pbx", f, environ, problems)) is not None}
    public_url = _value("registration", "public_url", environ, problems)
    method = _value("registration", "method", environ, problems)
    timeout = _value("registration", "request_timeout", environ, problems)
    if not problems and "url" not in pbx:
        problems.append(
            "no PBX: set IVRHOOKS_PBX_URL to the PBX's REST API (e.g. "
            "https://pbx.example.com:8887/api) and its login"
        )
    elif not problems and not (pbx.get("token") or (pbx.get("username") and pbx.get("password"))):
        problems.append(
            f"the PBX at {pbx['url']} needs a login: set IVRHOOKS_PBX_USERNAME and "
            "IVRHOOKS_PBX_PASSWORD (and IVRHOOKS_PBX_DOMAIN for a tenant), or IVRHOOKS_PBX_TOKEN"
        )
    if problems:
        raise ConfigurationError("; ".join(problems))
    return ProbeEnvironment(PBXConfig(**pbx), public_url, method, timeout)


def public_url_problem(value: str) -> str | None:
    """What is wrong with ``value`` as a public URL (``--public-url``), by the rule
    ``IVRHOOKS_PUBLIC_URL`` is held to; ``None`` when it is fine."""
    variable = variable_for("registration", "public_url")
    assert variable is not None
    return variable.setting.problem(value)
