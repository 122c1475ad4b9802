"""The app's resolved configuration: code arguments, overridden by ``IVRHOOKS_*`` variables."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from ivrhooks.auth import Secrets, generate_secret
from ivrhooks.errors import ConfigurationError
from ivrhooks.settings import AuthScheme, Settings, load_settings

__all__ = ["AppConfig", "PBXConfig", "resolve_config"]

logger = logging.getLogger("ivrhooks")


@dataclass(frozen=True)
class PBXConfig:
    """How to reach the PBX's REST API (``url`` includes ``/api``)."""

    url: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    domain: str | None = None
    token: str | None = field(default=None, repr=False)
    verify_tls: bool = True


@dataclass
class AppConfig:
    receptionists: tuple[str, ...]
    auth: AuthScheme
    secrets: Secrets
    secret_generated: bool
    method: Literal["GET", "POST"]
    request_timeout: int
    deadline: float
    reconcile_interval: float
    public_url: str | None
    pbx: PBXConfig | None
    allow: tuple[str, ...] = ()
    trusted_proxies: tuple[str, ...] = ()
    auth_from_env: bool = False
    """``auth`` was set by IVRHOOKS_AUTH: an operator's explicit choice, ``none`` included."""


def resolve_config(code: dict[str, Any], env: bool | Mapping[str, str]) -> AppConfig:
    """Merge the code's values with the environment's (which win when set)."""
    if env is False:
        settings = Settings.model_construct()  # every variable "not set"
    else:
        settings = load_settings(None if env is True else env)

    def pick(name: str) -> Any:
        value = getattr(settings, name, None)
        if value is None:
            return code.get(name)
        return value.get_secret_value() if hasattr(value, "get_secret_value") else value

    pbx_url = pick("pbx_url")
    pbx = None
    if pbx_url:
        pbx = PBXConfig(
            url=pbx_url,
            username=pick("pbx_username"),
            password=pick("pbx_password"),
            domain=pick("pbx_domain"),
            token=pick("pbx_token"),
            verify_tls=pick("pbx_verify_tls") is not False,
        )
        if not pbx.token and not (pbx.username and pbx.password):
            raise ConfigurationError(
                f"the PBX at {pbx_url} needs a login: set IVRHOOKS_PBX_USERNAME and "
                "IVRHOOKS_PBX_PASSWORD (and IVRHOOKS_PBX_DOMAIN for a tenant), "
                "or IVRHOOKS_PBX_TOKEN"
            )
    secret, previous = pick("secret"), pick("previous_secret")
    generated = False
    if not secret:
        if pbx is not None:
            raise ConfigurationError(
                "no secret: set IVRHOOKS_SECRET (or IVRHooks(secret=...)) to a long random string, "
                "the same on every replica; action-URL credentials and digest nonces derive from it"
            )
        secret, generated = generate_secret(), True
    deadline = float(pick("deadline"))
    request_timeout = int(pick("request_timeout"))
    if not 0 < deadline < request_timeout:
        raise ConfigurationError(
            f"deadline={deadline}: the answer budget must be above 0 and below the PBX's "
            f"request_timeout ({request_timeout} s), or the PBX gives up before the fallback"
        )
    return AppConfig(
        receptionists=tuple(pick("receptionists") or ()),
        auth=pick("auth"),
        secrets=Secrets(secret, previous or None),
        secret_generated=generated,
        method=pick("method"),
        request_timeout=request_timeout,
        deadline=deadline,
        reconcile_interval=float(pick("reconcile_interval")),
        public_url=(pick("public_url") or "").rstrip("/") or None,
        pbx=pbx,
        allow=tuple(pick("allow") or ()),
        trusted_proxies=tuple(pick("trusted_proxies") or ()),
        auth_from_env=settings.auth is not None,
    )
