"""Configuration from the environment (``IVRHOOKS_*``), read once at the edge.

Only this module and the CLI read the environment. ``IVRHooks(...)`` arguments are the code's
defaults; a variable that is set overrides them, so one image serves every deployment. A bad value
fails startup with a message naming the variable.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from ivrhooks.errors import ConfigurationError

__all__ = ["ENV_PREFIX", "Settings", "load_settings"]

ENV_PREFIX = "IVRHOOKS_"

AuthScheme = Literal["basic", "digest", "bearer", "none"]


class Settings(BaseSettings):
    """Every ``IVRHOOKS_*`` variable; ``None`` means "not set: use the code's value"."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    pbx_url: str | None = None
    pbx_username: str | None = None
    pbx_password: SecretStr | None = None
    pbx_domain: str | None = None
    pbx_token: SecretStr | None = None
    pbx_verify_tls: bool | None = None
    public_url: str | None = None
    secret: SecretStr | None = None
    previous_secret: SecretStr | None = None
    auth: AuthScheme | None = None
    receptionists: Annotated[tuple[str, ...] | None, NoDecode] = None
    allow: Annotated[tuple[str, ...] | None, NoDecode] = None
    trusted_proxies: Annotated[tuple[str, ...] | None, NoDecode] = None
    method: Literal["GET", "POST"] | None = None
    request_timeout: Annotated[int, Field(ge=1, le=60)] | None = None
    deadline: Annotated[float, Field(gt=0)] | None = None
    reconcile_interval: Annotated[float, Field(ge=0)] | None = None

    @field_validator("auth", "method", mode="before")
    @classmethod
    def _case(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip()
            return value.upper() if value.upper() in ("GET", "POST") else value.lower()
        return value

    @field_validator("receptionists", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        # A comma-separated list ("8000,8001"), not JSON: what people type in an env file.
        if isinstance(value, str):
            items = tuple(item.strip() for item in value.split(",") if item.strip())
            for item in items:
                if not (item.isascii() and item.isdigit() and 3 <= len(item) <= 64):
                    raise ValueError(f"{item!r} is not an extension number (3 to 64 digits)")
            return items
        return value

    @field_validator("allow", "trusted_proxies", mode="before")
    @classmethod
    def _networks(cls, value: Any) -> Any:
        # Comma-separated CIDRs ("10.0.0.0/8, 192.0.2.7"); checked where they are used.
        if isinstance(value, str):
            items = tuple(item.strip() for item in value.split(",") if item.strip())
            for item in items:
                try:
                    ipaddress.ip_network(item, strict=False)
                except ValueError:
                    raise ValueError(f"{item!r} is not an IP address or network") from None
            return items
        return value

    @field_validator("public_url", "pbx_url", mode="after")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value


class _Given(Settings):
    """Settings from a given mapping only (tests), never from the process environment."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read the ``IVRHOOKS_*`` variables (from ``environ`` when given, for tests)."""
    try:
        if environ is None:
            return Settings()
        values = {
            key[len(ENV_PREFIX) :].lower(): value
            for key, value in environ.items()
            if key.startswith(ENV_PREFIX)
        }
        return _Given.model_validate(values)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else "?"
            problems.append(f"{ENV_PREFIX}{field.upper()}: {error['msg']}")
        raise ConfigurationError("bad configuration: " + "; ".join(problems)) from None
