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

These are the code's defaults. When the app starts, :func:`ivrhooks.settings.resolve` lays the
``IVRHOOKS_*`` variables over them (a variable that is set wins) and returns one
:class:`Config`. Every check here raises :class:`~ivrhooks.errors.SettingError` naming the
argument; the same check on a variable names the variable.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Self
from urllib.parse import urlsplit

from ivrhooks.core.auth.replay import ReplayStore
from ivrhooks.core.types import DEFAULT_PBX_RATE as DEFAULT_RATE
from ivrhooks.core.types import EXTENSION_RULE, METHODS, SCHEMES, Method, Scheme, is_extension
from ivrhooks.core.types import MAX_PBX_RATE as MAX_RATE
from ivrhooks.errors import SettingError

__all__ = [
    "AuthConfig",
    "Config",
    "PBXConfig",
    "RegistrationConfig",
    "ServingConfig",
    "StoreConfig",
    "check_field",
    "setting_error",
]

DIGEST_ALGORITHMS = ("MD5", "SHA-256")


def _problem(group: str, name: str, value: Any) -> str | None:
    """What is wrong with ``value`` for ``group.name``, or ``None``: the one place every
    setting's rule is written, used for code arguments and variables alike."""
    checker = _CHECKS.get((group, name))
    return checker(value) if checker is not None else None


def check_field(group: str, name: str, value: Any, *, spelled: str) -> None:
    """Raise :class:`SettingError` if ``value`` is wrong for ``group.name``.

    ``spelled`` is how the user wrote it: a variable (``IVRHOOKS_DEADLINE``) or a code argument
    (``ServingConfig(deadline=...)``); the message shows the value tried in that spelling.
    """
    problem = _problem(group, name, value)
    if problem is not None:
        raise setting_error(spelled, name, value, problem)


def setting_error(spelled: str, name: str, value: Any, problem: str) -> SettingError:
    """``IVRHOOKS_DEADLINE='abc': ...`` or ``ServingConfig(deadline='abc'): ...``."""
    shown = _shown(name, value)
    where = spelled.replace("...", shown) if "..." in spelled else f"{spelled}={shown}"
    return SettingError(f"{where}: {problem}", name=spelled, problem=problem)


_HIDDEN = frozenset({"secret", "previous_secret", "password", "token"})


def _shown(name: str, value: Any) -> str:
    """The value for a message: never a secret's (nor the login in a URL)."""
    if name in _HIDDEN and value is not None:
        return "***"
    if name.endswith("url") and isinstance(value, str) and "@" in value:
        head, _, host = value.rpartition("@")
        scheme = head.partition("://")[0] + "://" if "://" in head else ""
        return repr(f"{scheme}***@{host}")
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value) if value else "''"
    return repr(value)


def _validate(instance: Any, group: str) -> None:
    for f in dataclasses.fields(instance):
        check_field(
            group,
            f.name,
            getattr(instance, f.name),
            spelled=f"{type(instance).__name__}({f.name}=...)",
        )


def _tuple(instance: Any, *names: str) -> None:
    """Accept any sequence for tuple fields (lists in user code), refuse a bare string."""
    for name in names:
        value = getattr(instance, name)
        if isinstance(value, str):
            raise SettingError(
                f"{type(instance).__name__}({name}={value!r}): pass a list, e.g. [{value!r}]",
                name=name,
                problem="pass a list",
            )
        if not isinstance(value, tuple):
            object.__setattr__(instance, name, tuple(value))


class _Group:
    def replace(self, **changes: Any) -> Self:
        """A copy with ``changes`` applied (and checked)."""
        return dataclasses.replace(self, **changes)  # type: ignore[type-var]  # dataclass subclasses


@dataclass(frozen=True, kw_only=True)
class AuthConfig(_Group):
    """How action-URL requests are authenticated (docs/security.md)."""

    scheme: Scheme = "basic"
    """``basic``, ``digest``, ``bearer``; ``none`` needs ``allow_no_auth=True`` in code."""
    secret: str | None = field(default=None, repr=False)
    """Credentials and Digest nonces derive from it; the same on every replica."""
    previous_secret: str | None = field(default=None, repr=False)
    """The old secret during a rotation: accepted until the next successful registration."""
    allow_no_auth: bool = False
    digest_algorithms: tuple[str, ...] = ("MD5",)
    realm: str = "ivrhooks"
    allow: tuple[str, ...] = ()
    """PBX addresses or networks (CIDR); every other source gets 403 before any credential check."""
    trusted_proxies: tuple[str, ...] = ()
    """Proxies whose ``X-Forwarded-For`` is believed."""
    ops_allow: tuple[str, ...] = ("127.0.0.0/8", "::1")
    """Who may read ``/metrics`` and ``/readyz`` (CIDR); everyone else gets 403. ``/healthz``
    answers anyone: it says nothing but "ok"."""
    ops_hosts: tuple[str, ...] = ()
    """More ``Host`` names ``/metrics`` and ``/readyz`` answer to, besides loopback names, IP
    literals and the public URL's host (DNS rebinding: ``ivrhooks.core.auth.guard.OpsHosts``)."""
    replay_store: ReplayStore | None = field(default=None, compare=False)
    """Where Digest ``nc`` values are remembered; per process when ``None``."""

    def __post_init__(self) -> None:
        _tuple(self, "digest_algorithms", "allow", "trusted_proxies", "ops_allow", "ops_hosts")
        _validate(self, "auth")


@dataclass(frozen=True)
class PBXConfig(_Group):
    """How to reach the PBX's REST API (``url`` includes ``/api``)."""

    url: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    domain: str | None = None
    token: str | None = field(default=None, repr=False)
    verify_tls: bool = True
    rate: int | None = DEFAULT_RATE
    """Requests a second, at most, in any one-second window (``IVRHOOKS_PBX_RATE``); ``None``
    turns the budget off (the embedded fake PBX)."""

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "url", self.url.strip().rstrip("/") if isinstance(self.url, str) else self.url
        )
        _validate(self, "pbx")


@dataclass(frozen=True, kw_only=True)
class RegistrationConfig(_Group):
    """What the app writes onto the receptionists (docs/registration.md)."""

    public_url: str | None = None
    """The base URL at which the PBX reaches this service (whole action URL <= 128 chars)."""
    method: Method = "POST"
    request_timeout: int = 2
    """Seconds registered as ``request_timeout`` and ``connection_timeout``."""
    interval: float = 300.0
    """Seconds between reconciles; ``0`` reconciles at startup only."""
    lease_ttl: float = 15.0
    """With a shared store: seconds the registrar lease lasts without renewal, the longest the
    other replicas wait to take over from a registrar that died."""
    generation: int | None = None
    """The order of this version among the versions registering at once (a rolling deploy):
    the highest writes. Unset: the order in which their desired states first appeared, newest
    highest. Set it (e.g. to a release number) to roll back to code that ran before."""
    enabled: bool = True
    """``False``: serve only, never register (the action URLs are configured by hand, or by
    another deployment); no PBX is needed then, and none is embedded."""
    app_id: str | None = None
    """This app's identity in the names of the action URLs it owns. By default derived from the
    app's module and public URL, so two different apps sharing a PBX never touch each other's
    entries; set it to keep the identity across a move to another public URL."""

    def __post_init__(self) -> None:
        if isinstance(self.public_url, str):
            object.__setattr__(self, "public_url", self.public_url.strip().rstrip("/") or None)
        if isinstance(self.method, str):
            object.__setattr__(self, "method", self.method.upper())
        _validate(self, "registration")


@dataclass(frozen=True, kw_only=True)
class ServingConfig(_Group):
    """How requests are answered."""

    deadline: float = 1.5
    """The answer budget in seconds; below the PBX's ``request_timeout``."""
    path_prefix: str = "/hooks"
    """Routes are served at ``<path_prefix>/<route name>``."""
    max_body: int = 8 * 1024
    max_header_bytes: int = 8 * 1024
    """The request-target plus every header name and value, at most; past it ``ivrhooks run``
    answers 431 and closes the connection before the app sees the request."""
    max_headers: int = 100
    """Header fields per request, at most (431 past it, as ``max_header_bytes``)."""
    read_timeout: float = 5.0
    """Seconds a request may take to arrive completely, from the connection opening (or its
    first byte on a kept-alive connection); ``ivrhooks run`` closes slower ones (slowloris)."""
    max_threads: int = 64
    """Threads for sync handlers."""
    methods: tuple[Method, ...] = ()
    """The HTTP methods action URLs answer; empty: only the registered one
    (``RegistrationConfig.method``). Any other method gets 405, so a POST action URL never
    answers GET and call data never moves into query strings (and proxies' access logs)."""
    session_ttl: float = 3600.0
    """Seconds a call's session lives after its last write (``req.session()``)."""
    session_max_bytes: int = 16 * 1024
    """The largest a session may be, as JSON: larger is a handler failure."""
    freeze_gc: bool = False
    """After startup, move every object alive into the GC's permanent generation
    (``gc.freeze()``): route tables, masks and authenticators then never slow a full collection
    (~25 ms at 1,000 routes, ~100 ms at 10,000, paid by whichever request is in flight).
    ``ivrhooks run`` turns it on; it affects the whole process."""
    route_label: bool = True
    """Label the request metrics by route. Off: one series per action and outcome instead of per
    route as well (10,000 routes make ~140,000 latency series with it); the request line and
    the spans still name the route."""

    def __post_init__(self) -> None:
        _tuple(self, "methods")
        object.__setattr__(
            self, "methods", tuple(m.upper() if isinstance(m, str) else m for m in self.methods)
        )
        _validate(self, "serving")


@dataclass(frozen=True, kw_only=True)
class StoreConfig(_Group):
    """Where state shared across requests lives (docs/deployment.md).

    Unset ``redis_url``: this process's memory, correct for one process only. Set: Redis, shared
    by every replica; the timeouts stay well inside the answer budget, and a failing Redis never
    stops calls being answered (see :mod:`ivrhooks.store`)."""

    redis_url: str | None = field(default=None, repr=False)
    """``redis://``, ``rediss://`` (TLS) or ``unix://``; may carry a password, so never shown."""
    connect_timeout: float = 0.25
    timeout: float = 0.25
    """Seconds for one Redis command (and for a free pooled connection)."""
    max_connections: int = 32

    def __post_init__(self) -> None:
        _validate(self, "store")


@dataclass(frozen=True)
class Config:
    """The resolved configuration an app starts with: code defaults, then the environment."""

    receptionists: tuple[str, ...]
    auth: AuthConfig
    pbx: PBXConfig | None
    registration: RegistrationConfig
    serving: ServingConfig
    store: StoreConfig = field(default_factory=StoreConfig)
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


# -- the rules, one per setting ------------------------------------------------------------


def _one_of(choices: Sequence[str]) -> Any:
    def check(value: Any) -> str | None:
        if value not in choices:
            return "choose " + ", ".join(repr(c) for c in choices[:-1]) + f" or {choices[-1]!r}"
        return None

    return check


def _boolean(value: Any) -> str | None:
    return None if isinstance(value, bool) else "must be true or false"


def _number(low: float, high: float | None = None, *, above: bool = False) -> Any:
    def check(value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return "must be a number"
        if value != value or value in (float("inf"), float("-inf")):
            return "must be a finite number"
        if above and value <= low:
            return f"must be above {low:g}"
        if not above and value < low:
            return f"must be at least {low:g}"
        if high is not None and value > high:
            return f"must be at most {high:g}"
        return None

    return check


def _integer(low: int, high: int) -> Any:
    def check(value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int):
            return "must be a whole number"
        if not low <= value <= high:
            return f"must be from {low} to {high}"
        return None

    return check


def _optional_integer(low: int, high: int) -> Any:
    check = _integer(low, high)
    return lambda value: None if value is None else check(value)


def _optional(check: Any) -> Any:
    def optional(value: Any) -> str | None:
        return None if value is None else check(value)

    return optional


def _url(required: bool, login_hint: str) -> Any:
    def check(value: Any) -> str | None:
        if value is None:
            return "is required" if required else None
        if not isinstance(value, str) or not value.startswith(("http://", "https://")):
            return "must start with http:// or https://"
        if any(c.isspace() for c in value) or len(value) <= len("https://"):
            return "is not a URL"
        if "@" in urlsplit(value).netloc:
            # A login in a URL ends up in logs, /readyz and error messages: never accepted.
            return f"must not carry a login (user:password@): {login_hint}"
        return None

    return check


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return None if isinstance(value, str) and value else "must be a non-empty string"


def _networks(value: Any) -> str | None:
    for item in value:
        try:
            ipaddress.ip_network(str(item).strip(), strict=False)
        except ValueError:
            return f"{item!r} is not an IP address or network (CIDR)"
    return None


def _hosts(value: Any) -> str | None:
    for item in value:
        if not re.fullmatch(r"[A-Za-z0-9._-]{1,253}", str(item)):
            return f"{item!r} is not a host name (no scheme, no port: e.g. ivrhooks.internal)"
    return None


def _algorithms(value: Any) -> str | None:
    algs = [str(a).upper() for a in value]
    if not algs or len(set(algs)) != len(algs) or any(a not in DIGEST_ALGORITHMS for a in algs):
        return (
            "choose from MD5 and SHA-256 (no -sess, no SHA-512-256: common clients get them wrong)"
        )
    return None


def _methods(value: Any) -> str | None:
    if any(m not in METHODS for m in value) or len(set(value)) != len(value):
        return "choose from 'GET' and 'POST', each once (empty: the registered method only)"
    return None


def _path_prefix(value: Any) -> str | None:
    if not isinstance(value, str) or not value.startswith("/") or value.endswith("/"):
        return "start it with '/' and do not end it with '/'"
    return None


def _realm(value: Any) -> str | None:
    ok = isinstance(value, str) and 1 <= len(value) <= 64
    ok = ok and all(0x20 <= ord(c) <= 0x7E and c not in '"\\' for c in value)
    return None if ok else "must be 1 to 64 printable ASCII characters, no quotes"


def _redis_url(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.startswith(("redis://", "rediss://", "unix://")):
        return "must start with redis://, rediss:// or unix://"
    return None


def _app_id(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not re.fullmatch(r"[a-z0-9]{1,8}", value):
        return "must be 1 to 8 characters of a-z and 0-9 (it goes into action URL names)"
    return None


def _optional_boolean(value: Any) -> str | None:
    return None if value is None else _boolean(value)


def _receptionists(value: Any) -> str | None:
    for item in value:
        if not is_extension(item):
            return f"{item!r} is not an extension number ({EXTENSION_RULE}, as a string)"
    return None


_CHECKS: dict[tuple[str, str], Any] = {
    ("auth", "scheme"): _one_of(SCHEMES),
    ("auth", "secret"): _text,
    ("auth", "previous_secret"): _text,
    ("auth", "allow_no_auth"): _boolean,
    ("auth", "digest_algorithms"): _algorithms,
    ("auth", "realm"): _realm,
    ("auth", "allow"): _networks,
    ("auth", "trusted_proxies"): _networks,
    ("auth", "ops_allow"): _networks,
    ("auth", "ops_hosts"): _hosts,
    ("pbx", "url"): _url(
        required=True, login_hint="set IVRHOOKS_PBX_USERNAME and IVRHOOKS_PBX_PASSWORD instead"
    ),
    ("pbx", "username"): _text,
    ("pbx", "password"): _text,
    ("pbx", "domain"): _text,
    ("pbx", "token"): _text,
    ("pbx", "verify_tls"): _boolean,
    ("pbx", "rate"): _optional(_integer(1, MAX_RATE)),
    ("registration", "public_url"): _url(
        required=False, login_hint="the PBX authenticates with the route's own scheme"
    ),
    ("registration", "method"): _one_of(METHODS),
    ("registration", "request_timeout"): _integer(1, 60),
    ("registration", "interval"): _number(0),
    ("registration", "app_id"): _app_id,
    ("registration", "enabled"): _boolean,
    ("registration", "generation"): _optional_integer(1, 2**62),
    ("registration", "lease_ttl"): _number(1, 300),
    ("app", "embedded_pbx"): _optional_boolean,
    ("run", "host"): _text,
    ("run", "port"): _integer(0, 65535),
    ("serving", "deadline"): _number(0, above=True),
    ("serving", "path_prefix"): _path_prefix,
    ("serving", "max_body"): _integer(64, 1 << 20),
    ("serving", "max_header_bytes"): _integer(1024, 1 << 20),
    ("serving", "max_headers"): _integer(10, 10_000),
    ("serving", "read_timeout"): _number(0, 300, above=True),
    ("serving", "max_threads"): _integer(1, 1024),
    ("serving", "methods"): _methods,
    ("serving", "freeze_gc"): _boolean,
    ("serving", "session_ttl"): _number(1, 7 * 24 * 3600.0),
    ("serving", "session_max_bytes"): _integer(256, 1 << 20),
    ("serving", "route_label"): _boolean,
    ("app", "receptionists"): _receptionists,
    ("store", "redis_url"): _redis_url,
    ("store", "connect_timeout"): _number(0.01, 5),
    ("store", "timeout"): _number(0.01, 5),
    ("store", "max_connections"): _integer(1, 1024),
}
