"""The settings for what reaches the app: who may send action-URL requests (:class:`AuthConfig`)
and how they are answered (:class:`ServingConfig`).

Each field is declared once with :func:`~ivrhooks.conf.declare.setting`: default, rule,
variable, parser and meaning (the README's table is rendered from them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ivrhooks.conf import rules
from ivrhooks.conf.declare import Group, setting
from ivrhooks.core.auth.replay import ReplayStore
from ivrhooks.core.types import SCHEMES, Method, Scheme

__all__ = ["AuthConfig", "ServingConfig"]


@dataclass(frozen=True, kw_only=True)
class AuthConfig(Group):
    """How action-URL requests are authenticated (docs/security.md)."""

    scheme: Scheme = setting(  # noqa: RUF009 (a dataclasses.Field)
        "basic",
        doc=", ".join(f"`{scheme}`" for scheme in SCHEMES),
        rule=rules.one_of(SCHEMES),
        env="IVRHOOKS_AUTH",
        parse=rules.lower,
    )
    """``none`` needs ``allow_no_auth=True`` in code."""
    secret: str | None = setting(
        None,
        doc="credentials and digest nonces derive from it; required with a real PBX",
        rule=rules.text,
        env="IVRHOOKS_SECRET",
        parse=rules.trimmed,
        readme_default="random per process without a PBX",
        secret=True,
        means_real_pbx=True,
    )
    """The same on every replica."""
    previous_secret: str | None = setting(
        None,
        doc="the old secret during a rotation: accepted until the next registration",
        rule=rules.text,
        env="IVRHOOKS_PREVIOUS_SECRET",
        parse=rules.trimmed,
        secret=True,
        means_real_pbx=True,
    )
    allow_no_auth: bool = setting(
        False,
        doc="`scheme='none'` is meant: anyone who reaches the service is served",
        rule=rules.boolean,
    )
    digest_algorithms: tuple[str, ...] = setting(
        ("MD5",), doc="the algorithms Digest offers, in order", rule=rules.algorithms
    )
    realm: str = setting(
        "ivrhooks", doc="the realm Basic and Digest challenges name", rule=rules.realm
    )
    allow: tuple[str, ...] = setting(
        (),
        doc="comma-separated PBX addresses/networks (CIDR); every other source gets 403 before "
        "any credential check",
        rule=rules.networks,
        env="IVRHOOKS_ALLOW",
        parse=rules.comma_list,
        readme_default="unset: any source",
    )
    trusted_proxies: tuple[str, ...] = setting(
        (),
        doc="comma-separated proxy networks whose `X-Forwarded-For`, `Forwarded` and `X-Real-IP` "
        "are believed (`ivrhooks run` turns uvicorn's own proxy-header rewrite off)",
        rule=rules.networks,
        env="IVRHOOKS_TRUSTED_PROXIES",
        parse=rules.comma_list,
        readme_default="unset: none",
    )
    ops_allow: tuple[str, ...] = setting(
        ("127.0.0.0/8", "::1"),
        doc="comma-separated networks that may read `/metrics` and `/readyz` (others get 403; "
        "`/healthz` answers anyone)",
        rule=rules.networks,
        env="IVRHOOKS_OPS_ALLOW",
        parse=rules.comma_list,
    )
    """``/healthz`` answers anyone: it says nothing but "ok"."""
    ops_hosts: tuple[str, ...] = setting(
        (),
        doc="comma-separated host names `/metrics` and `/readyz` also answer to (the `Host` a "
        "scraper sends); any other name gets 403, against DNS rebinding",
        rule=rules.hosts,
        env="IVRHOOKS_OPS_HOSTS",
        parse=rules.comma_list,
        readme_default="loopback names, IP literals and the public URL's host",
    )
    """More ``Host`` names ``/metrics`` and ``/readyz`` answer to, besides loopback names, IP
    literals and the public URL's host (``ivrhooks.core.auth.guard.OpsHosts``)."""
    replay_store: ReplayStore | None = setting(  # noqa: RUF009 (a dataclasses.Field)
        None, doc="where Digest `nc` values are remembered; per process when unset", compare=False
    )


def _upper_each(value: Any) -> Any:
    return tuple(m.upper() if isinstance(m, str) else m for m in value)


@dataclass(frozen=True, kw_only=True)
class ServingConfig(Group):
    """How requests are answered."""

    deadline: float = setting(
        1.5,
        doc="the answer budget in seconds, below the request timeout",
        rule=rules.number(0, above=True),
        env="IVRHOOKS_DEADLINE",
        parse=rules.parse_number,
    )
    path_prefix: str = setting(
        "/hooks", doc="routes are served at `<path_prefix>/<route name>`", rule=rules.path_prefix
    )
    max_body: int = setting(
        8 * 1024,
        doc="the largest request body, in bytes; a larger one gets 400 before any handler runs",
        rule=rules.integer(64, 1 << 20),
    )
    max_header_bytes: int = setting(
        8 * 1024,
        doc="the request-target plus every header name and value, at most, in bytes",
        rule=rules.integer(1024, 1 << 20),
    )
    """Past it ``ivrhooks run`` answers 431 and closes the connection before the app sees the
    request."""
    max_headers: int = setting(
        100, doc="header fields per request, at most (431 past it)", rule=rules.integer(10, 10_000)
    )
    read_timeout: float = setting(
        5.0,
        doc="seconds a request may take to arrive completely",
        rule=rules.number(0, 300, above=True),
    )
    """From the connection opening (or its first byte on a kept-alive connection);
    ``ivrhooks run`` closes slower ones (slowloris)."""
    max_threads: int = setting(64, doc="threads for sync handlers", rule=rules.integer(1, 1024))
    methods: tuple[Method, ...] = setting(
        (),
        doc="comma-separated methods action URLs answer (`GET,POST` for both); any other gets 405",
        rule=rules.methods,
        env="IVRHOOKS_SERVE_METHODS",
        parse=rules.upper_list,
        readme_default="the registered method only",
        normalize=_upper_each,
    )
    """Empty: only the registered one (``RegistrationConfig.method``). So a POST action URL
    never answers GET, and call data never moves into query strings (and proxies' logs)."""
    session_ttl: float = setting(
        3600.0,
        doc="seconds a call's session (`await req.session()`) lives after its last write",
        rule=rules.number(1, 7 * 24 * 3600.0),
        env="IVRHOOKS_SESSION_TTL",
        parse=rules.parse_number,
    )
    session_max_bytes: int = setting(
        16 * 1024,
        doc="the largest a session may be, as JSON: larger is a handler failure",
        rule=rules.integer(256, 1 << 20),
    )
    freeze_gc: bool = setting(
        False,
        doc="after startup, move every object alive into the GC's permanent generation",
        rule=rules.boolean,
    )
    """``gc.freeze()``: route tables, masks and authenticators then never slow a full collection
    (~25 ms at 1,000 routes, ~100 ms at 10,000, paid by whichever request is in flight).
    ``ivrhooks run`` turns it on; it affects the whole process."""
    route_label: bool = setting(
        True,
        doc="`false`: the request metrics carry no `route` label (one series per action and "
        "outcome; for thousands of routes, see [docs/observability.md](docs/observability.md))",
        rule=rules.boolean,
        env="IVRHOOKS_METRICS_ROUTE_LABEL",
        parse=rules.parse_boolean,
    )
    """10,000 routes make ~140,000 latency series with it; the request line and the spans
    still name the route."""
