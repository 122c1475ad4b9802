"""The account's side of PortSIP's wire format: login bodies, token replies, who the account is.

Shared by ``ivrhooks.pbx.tokens`` (the client) and ``ivrhooks.fakepbx.login`` (the fake), and
re-exported from :mod:`ivrhooks.models`. PortSIP REST §4 (reference/portsip.md) and the
"Authentication" tag of the published OpenAPI document.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import StringConstraints, field_validator

from ivrhooks.schema.wire import ReadModel, WriteModel

__all__ = ["AccountInfo", "LoginBody", "TokenResponse"]


class LoginBody(WriteModel):
    """Body of ``POST /auth/sign_in`` and ``POST /login``: ``{username, password, domain?}``."""

    username: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    password: str
    domain: Annotated[str, StringConstraints(min_length=1, max_length=280)] | None = None


class TokenResponse(ReadModel):
    """What the token endpoints answer. ``expires_at`` (RFC 3339) is what ``GET /login``
    documents; ``POST /login``'s reply is not documented, so either lifetime is read."""

    access_token: str | None = None
    expires_in: int | None = None
    expires_at: str | None = None
    refresh_token: str | None = None
    token_type: str | None = None
    role: str | None = None
    two_factor_enabled: bool | None = None


class AccountInfo(ReadModel):
    """The logged-in account: ``GET /auth/user`` (v22.2+) or ``GET /login`` (role only).

    ``capabilities`` (v22.3+) is not typed in the published documents: strings, objects with a
    ``name`` and ``{name: bool}`` maps are all read as a list of names.
    """

    role: str | None = None
    capabilities: list[str] | None = None
    password_force_reset: bool | None = None
    source: str | None = None

    @field_validator("capabilities", mode="before")
    @classmethod
    def _names(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return [str(k) for k, v in value.items() if v]
        if isinstance(value, list):
            return [
                str(item.get("name") or item.get("id") or item) if isinstance(item, dict) else item
                for item in value
            ]
        return value
