"""The rules that span settings: each a small named function of the whole draft configuration,
returning its problem or ``None``. :func:`problems` runs them all, in order, and collects every
problem, so one failed start names everything to change.

A single setting's rule is declared with the setting (:mod:`ivrhooks.conf.declare`); these are
the ones no single setting can check: the PBX against the embedded one, the login, the secret
(long enough, and not one anybody can read: :mod:`ivrhooks.conf.known_secrets`), the served
methods against the registered one, the answer budget against the PBX's timeout.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ivrhooks.conf.config import AuthConfig, PBXConfig, RegistrationConfig, ServingConfig
from ivrhooks.conf.known_secrets import GENERATE, weakness
from ivrhooks.core.auth.credentials import MIN_SECRET_LENGTH

__all__ = ["CHECKS", "Draft", "problems"]


@dataclass(frozen=True)
class Draft:
    """The configuration about to be returned, and how the user spelled each setting."""

    auth: AuthConfig
    pbx: PBXConfig | None
    registration: RegistrationConfig
    serving: ServingConfig
    embedded: bool | None
    """``IVRHOOKS_EMBEDDED_PBX`` or the code's ``embedded_pbx``: ``None`` when nobody said."""
    signals: tuple[str, ...]
    """Variables set that mean a real PBX (see ``Setting.means_real_pbx``)."""
    variables: Mapping[tuple[str, str], str]
    """``(group, field)`` to the ``IVRHOOKS_*`` variable that set it."""
    code_names: Mapping[str, str]
    """A group's name in code: ``serving`` is ``ServingConfig``."""

    def spell(self, group: str, field: str, value: Any = ...) -> str:
        """How the user wrote it: ``IVRHOOKS_DEADLINE=3`` or ``ServingConfig(deadline=3)``."""
        name = self.variables.get((group, field))
        if name is not None:
            return name if value is ... else f"{name}={value!r}"
        shown = "..." if value is ... else repr(value)
        return f"{self.code_names[group]}({field}={shown})"


Check = Callable[[Draft], "str | None"]

_PBX_API = "set IVRHOOKS_PBX_URL to the PBX's REST API (e.g. https://pbx.example.com:8887/api)"


def embedded_without_registration(d: Draft) -> str | None:
    # Serving only: there is nothing to embed a PBX for.
    if d.registration.enabled or not d.embedded:
        return None
    return (
        f"{d.spell('app', 'embedded_pbx', True)} and "
        f"{d.spell('registration', 'enabled', False)}: the embedded PBX exists to be "
        "registered on; choose one"
    )


def embedded_and_a_pbx(d: Draft) -> str | None:
    if not d.registration.enabled or d.pbx is None or not d.embedded:
        return None
    return (
        f"{d.spell('app', 'embedded_pbx', True)} and a PBX at {d.pbx.url}: choose one (unset "
        "IVRHOOKS_PBX_URL for the embedded fake PBX, or IVRHOOKS_EMBEDDED_PBX for the real one)"
    )


def no_pbx_and_not_embedded(d: Draft) -> str | None:
    if not d.registration.enabled or d.pbx is not None or d.embedded is not False:
        return None
    return (
        f"no PBX: {_PBX_API}; {d.spell('app', 'embedded_pbx', False)} says not to start the "
        "embedded fake PBX"
    )


def real_pbx_meant_without_its_url(d: Draft) -> str | None:
    if not d.registration.enabled or d.pbx is not None or d.embedded is not None:
        return None
    if not d.signals:
        return None
    return (
        f"{', '.join(d.signals)} {'is' if len(d.signals) == 1 else 'are'} set but "
        f"IVRHOOKS_PBX_URL is not: {_PBX_API}, IVRHOOKS_EMBEDDED_PBX=true to run against the "
        "embedded fake PBX, or IVRHOOKS_REGISTER=false to serve without registering"
    )


def pbx_login(d: Draft) -> str | None:
    if d.pbx is None or d.pbx.token or (d.pbx.username and d.pbx.password):
        return None
    return (
        f"the PBX at {d.pbx.url} needs a login: set IVRHOOKS_PBX_USERNAME and "
        "IVRHOOKS_PBX_PASSWORD (and IVRHOOKS_PBX_DOMAIN for a tenant), or IVRHOOKS_PBX_TOKEN"
    )


def secret_with_a_pbx(d: Draft) -> str | None:
    # Without a PBX, resolve() generated one for this process before the checks ran.
    if d.auth.secret is not None:
        return None
    return (
        "no secret: set IVRHOOKS_SECRET (or AuthConfig(secret=...)) to a long random "
        "string, the same on every replica; action-URL credentials and digest nonces "
        "derive from it"
    )


def _long_enough(d: Draft, name: str) -> str | None:
    value = getattr(d.auth, name)
    if value is None or len(value.encode()) >= MIN_SECRET_LENGTH:
        return None
    return (
        f"{d.spell('auth', name)}: must be at least {MIN_SECRET_LENGTH} bytes; create one "
        f"with `{GENERATE}`"
    )


def secret_long_enough(d: Draft) -> str | None:
    return _long_enough(d, "secret")


def previous_secret_long_enough(d: Draft) -> str | None:
    return _long_enough(d, "previous_secret")


def _not_known(d: Draft, name: str) -> str | None:
    # A value too short is refused above already: one problem per setting is enough.
    value = getattr(d.auth, name)
    if value is None or len(value.encode()) < MIN_SECRET_LENGTH:
        return None
    reason = weakness(value)
    if reason is None:
        return None
    return (
        f"{d.spell('auth', name)}: {reason}; every action URL's credentials derive from it and "
        f"the public route names. Create one with `{GENERATE}`"
    )


def secret_not_known(d: Draft) -> str | None:
    return _not_known(d, "secret")


def previous_secret_not_known(d: Draft) -> str | None:
    return _not_known(d, "previous_secret")


def previous_secret_differs(d: Draft) -> str | None:
    if d.auth.previous_secret is None or d.auth.previous_secret != d.auth.secret:
        return None
    return f"{d.spell('auth', 'previous_secret')}: must differ from the current secret"


def served_methods_include_the_registered_one(d: Draft) -> str | None:
    methods, method = d.serving.methods, d.registration.method
    if not methods or method in methods:
        return None
    return (
        f"{d.spell('serving', 'methods', methods)}: must include the registered method "
        f"({d.spell('registration', 'method', method)}), or the PBX's own requests get 405"
    )


def deadline_below_request_timeout(d: Draft) -> str | None:
    deadline, timeout = d.serving.deadline, d.registration.request_timeout
    if deadline < timeout:
        return None
    return (
        f"{d.spell('serving', 'deadline', deadline)}: the answer budget must be below "
        f"the PBX's request_timeout ({d.spell('registration', 'request_timeout', timeout)}), "
        "or the PBX gives up before the fallback answers"
    )


def no_auth_is_meant(d: Draft) -> str | None:
    # IVRHOOKS_AUTH=none is the operator's explicit choice (logged at startup); in code it
    # takes allow_no_auth=True as well.
    if d.auth.scheme != "none" or d.auth.allow_no_auth or ("auth", "scheme") in d.variables:
        return None
    return (
        "auth='none' lets anyone who can reach the service drive the receptionists; "
        "pass allow_no_auth=True to mean it, or choose basic, digest or bearer"
    )


#: Every cross-setting rule, in the order their problems are listed.
CHECKS: tuple[Check, ...] = (
    embedded_without_registration,
    embedded_and_a_pbx,
    no_pbx_and_not_embedded,
    real_pbx_meant_without_its_url,
    pbx_login,
    secret_with_a_pbx,
    secret_long_enough,
    secret_not_known,
    previous_secret_long_enough,
    previous_secret_not_known,
    previous_secret_differs,
    served_methods_include_the_registered_one,
    deadline_below_request_timeout,
    no_auth_is_meant,
)


def problems(draft: Draft) -> list[str]:
    """What every check finds wrong with ``draft``, in order."""
    return [problem for check in CHECKS if (problem := check(draft)) is not None]
