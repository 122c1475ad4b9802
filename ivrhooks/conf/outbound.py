"""The settings for what the app reaches: the PBX's REST API (:class:`PBXConfig`), what it
registers there (:class:`RegistrationConfig`) and where shared state lives (:class:`StoreConfig`).

Each field is declared once with :func:`~ivrhooks.conf.declare.setting`: default, rule,
variable, parser and meaning (the README's table is rendered from them).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Final

from ivrhooks.conf import rules
from ivrhooks.conf.declare import Group, declare, setting
from ivrhooks.core.types import MAX_ACTION_URL, METHODS, Method

__all__ = ["DEFAULT_PBX_RATE", "MAX_PBX_RATE", "PBXConfig", "RegistrationConfig", "StoreConfig"]

#: PBX REST requests a second by default: 2,400 a minute, under half of PortSIP's smallest
#: documented limit (5,000 a minute), leaving the rest to the PBX's other integrations.
DEFAULT_PBX_RATE: Final = 40
#: PortSIP's largest documented limit is 10,000 a minute (~167/s); more is a typo.
MAX_PBX_RATE: Final = 1000


def _base_url(value: Any) -> Any:
    return value.strip().rstrip("/") if isinstance(value, str) else value


def _upper(value: Any) -> Any:
    return value.upper() if isinstance(value, str) else value


@dataclass(frozen=True)
class PBXConfig(Group):
    """How to reach the PBX's REST API (``url`` includes ``/api``)."""

    url: str = dataclasses.field(
        metadata=declare(
            doc="REST base URL including `/api`, e.g. `https://pbx.example.com:8887/api`: the PBX "
            "the app registers on",
            rule=rules.url(
                required=True,
                login_hint="set IVRHOOKS_PBX_USERNAME and IVRHOOKS_PBX_PASSWORD instead",
            ),
            env="IVRHOOKS_PBX_URL",
            parse=rules.trimmed,
            readme_default="unset: see `IVRHOOKS_EMBEDDED_PBX`",
            show=rules.without_login,
            normalize=_base_url,
        )
    )
    username: str | None = setting(
        None,
        doc="the PBX login's user name (with `IVRHOOKS_PBX_PASSWORD`)",
        rule=rules.text,
        env="IVRHOOKS_PBX_USERNAME",
        parse=rules.trimmed,
        means_real_pbx=True,
    )
    password: str | None = setting(
        None,
        doc="the PBX login's password",
        rule=rules.text,
        env="IVRHOOKS_PBX_PASSWORD",
        parse=rules.trimmed,
        secret=True,
        means_real_pbx=True,
    )
    domain: str | None = setting(
        None,
        doc="the tenant's domain, for a tenant account's login",
        rule=rules.text,
        env="IVRHOOKS_PBX_DOMAIN",
        parse=rules.trimmed,
        means_real_pbx=True,
    )
    token: str | None = setting(
        None,
        doc="a ready access token instead of a login",
        rule=rules.text,
        env="IVRHOOKS_PBX_TOKEN",
        parse=rules.trimmed,
        secret=True,
        means_real_pbx=True,
    )
    verify_tls: bool = setting(
        True,
        doc="verify the PBX's certificate",
        rule=rules.boolean,
        env="IVRHOOKS_PBX_VERIFY_TLS",
        parse=rules.parse_boolean,
    )
    rate: int | None = setting(
        DEFAULT_PBX_RATE,
        doc="most REST requests sent to the PBX in any one-second window, token calls included "
        f"(1-{MAX_PBX_RATE}); a 429 halves it for a while (PortSIP allows 5,000-10,000 a "
        "minute, shared with every integration)",
        rule=rules.optional(rules.integer(1, MAX_PBX_RATE)),
        env="IVRHOOKS_PBX_RATE",
        parse=rules.parse_integer,
        readme_default=f"`{DEFAULT_PBX_RATE}` ({DEFAULT_PBX_RATE * 60:,} a minute); none for "
        "the embedded fake PBX",
    )
    """``None`` turns the budget off (the embedded fake PBX)."""


@dataclass(frozen=True, kw_only=True)
class RegistrationConfig(Group):
    """What the app writes onto the receptionists (docs/registration.md)."""

    public_url: str | None = setting(
        None,
        doc="base URL at which the PBX reaches this service (whole action URL ≤ "
        f"{MAX_ACTION_URL} chars)",
        rule=rules.url(
            required=False, login_hint="the PBX authenticates with the route's own scheme"
        ),
        env="IVRHOOKS_PUBLIC_URL",
        parse=rules.trimmed,
        readme_default="embedded: the local URL",
        show=rules.without_login,
        normalize=lambda value: _base_url(value) or None,
        means_real_pbx=True,
    )
    method: Method = setting(  # noqa: RUF009 (a dataclasses.Field)
        "POST",
        doc="`POST` or `GET` for the registered action URLs",
        rule=rules.one_of(METHODS),
        env="IVRHOOKS_METHOD",
        parse=rules.upper,
        normalize=_upper,
    )
    request_timeout: int = setting(
        2,
        doc="seconds registered as `request_timeout`/`connection_timeout`",
        rule=rules.integer(1, 60),
        env="IVRHOOKS_REQUEST_TIMEOUT",
        parse=rules.parse_integer,
    )
    interval: float = setting(
        300.0,
        doc="seconds between reconciles; `0` = only at startup",
        rule=rules.number(0),
        env="IVRHOOKS_RECONCILE_INTERVAL",
        parse=rules.parse_number,
    )
    lease_ttl: float = setting(
        15.0,
        doc="with Redis: seconds the registrar lease lasts unrenewed, the longest a dead "
        "registrar keeps the others waiting",
        rule=rules.number(1, 300),
        env="IVRHOOKS_REGISTRAR_LEASE",
        parse=rules.parse_number,
    )
    generation: int | None = setting(
        None,
        doc="this version's order among versions registering at once (a rolling deploy): the "
        "highest writes; give old code a higher number to roll back",
        rule=rules.optional(rules.integer(1, 2**62)),
        env="IVRHOOKS_GENERATION",
        parse=rules.parse_integer,
        readme_default="unset: the newest desired state wins",
    )
    """Unset: the order in which the versions' desired states first appeared, newest highest.
    Set it (e.g. to a release number) to roll back to code that ran before."""
    enabled: bool = setting(
        True,
        doc="`false`: serve only and register on no PBX (action URLs configured by hand)",
        rule=rules.boolean,
        env="IVRHOOKS_REGISTER",
        parse=rules.parse_boolean,
    )
    """Off: no PBX is needed, and none is embedded (the action URLs are configured by hand, or
    by another deployment)."""
    app_id: str | None = setting(
        None,
        doc="this app's identity in its action URLs' names (`ivrhooks:<route>@<id>`), 1-8 of "
        "`a-z0-9`; keep it when moving to another public URL",
        rule=rules.app_id,
        env="IVRHOOKS_APP_ID",
        parse=rules.trimmed,
        readme_default="derived from the app's module and public URL",
        means_real_pbx=True,
    )
    """Derived by default, so two different apps sharing a PBX never touch each other's
    entries while the replicas of one app agree."""


@dataclass(frozen=True, kw_only=True)
class StoreConfig(Group):
    """Where state shared across requests lives (docs/deployment.md).

    Unset ``redis_url``: this process's memory, correct for one process only. Set: Redis, shared
    by every replica; the timeouts stay well inside the answer budget, and a failing Redis never
    stops calls being answered (see :mod:`ivrhooks.store`)."""

    redis_url: str | None = setting(
        None,
        doc="`redis://`, `rediss://` or `unix://`: Digest replay windows, the throttle, the "
        "registrar lease and call sessions live in Redis, shared by every replica "
        "([docs/deployment.md](docs/deployment.md)); needs `pip install 'ivrhooks[redis]'`",
        rule=rules.redis_url,
        env="IVRHOOKS_REDIS_URL",
        parse=rules.trimmed,
        readme_default="unset: this process's memory (one process only)",
        secret=True,  # it may carry a password
        show=rules.without_login,
    )
    connect_timeout: float = setting(
        0.25, doc="seconds to connect to Redis", rule=rules.number(0.01, 5)
    )
    timeout: float = setting(
        0.25,
        doc="seconds for one Redis command (and for a free pooled connection)",
        rule=rules.number(0.01, 5),
    )
    max_connections: int = setting(
        32, doc="Redis connections, at most", rule=rules.integer(1, 1024)
    )
