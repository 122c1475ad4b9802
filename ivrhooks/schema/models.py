"""The PortSIP Virtual Receptionist REST API, as pydantic models.

One module serves both sides: ``ivrhooks.pbx.PBXClient`` validates what it sends with these
models, and the fake PBX (``ivrhooks.testing``) validates what it receives with the same ones,
so the wire format lives here only. Field constraints follow PortSIP's published OpenAPI
document (``tests/conformance/portsip-openapi-ivr.json``) and, where it is silent, the seed API
text; the conventions (writes refuse unknown fields and nulls, reads ignore unknown fields and
read nulls as blanks) are in :mod:`ivrhooks.wire`, the receptionists' forward rules in
:mod:`ivrhooks.forwarding`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Generic, Self, TypeVar

from pydantic import Field, field_validator, model_validator

from ivrhooks.schema.accounts import AccountInfo, LoginBody, TokenResponse
from ivrhooks.schema.forwarding import (
    CustomForwardRule,
    CustomForwardRuleRead,
    ForwardRule,
    ForwardRuleRead,
    OutboundCallerId,
    OutboundCallerIdRead,
    TimeoutForwardRule,
    TimeoutForwardRuleRead,
)
from ivrhooks.schema.wire import (
    Credential,
    ExtensionNumber,
    Id,
    Mask,
    Name,
    NonNegativeInt32,
    Pin,
    PositiveInt32,
    ReadModel,
    Url,
    WriteModel,
    to_wire,
)

__all__ = [
    "AccountInfo",
    "ActionUrl",
    "ActionUrlCreate",
    "ActionUrlList",
    "ActionUrlType",
    "ActionUrlUpdate",
    "AuthMode",
    "Created",
    "HttpMethod",
    "Ivr",
    "IvrCreate",
    "IvrServer",
    "IvrServerCreate",
    "IvrServerStatus",
    "IvrServerType",
    "IvrServerUpdate",
    "IvrStatus",
    "IvrSummary",
    "IvrUpdate",
    "ListQuery",
    "LoginBody",
    "OnlineStatus",
    "Page",
    "TokenResponse",
    "to_wire",
]


class ActionUrlType(StrEnum):
    DTMF = "DTMF"
    CALLER = "CALLER"


class HttpMethod(StrEnum):
    GET = "GET"
    POST = "POST"


class AuthMode(StrEnum):
    DISABLE = "DISABLE"
    BASIC = "BASIC"
    DIGEST = "DIGEST"
    BEARER = "BEARER"


class IvrServerType(StrEnum):
    INTERNAL = "INTERNAL"
    EXTERNAL = "EXTERNAL"


class OnlineStatus(StrEnum):
    ONLINE = "ONLINE"
    OFFLINE = "OFFLINE"


# --- IVR servers (media servers, not receptionists) -------------------------------------


class IvrServerCreate(WriteModel):
    """Body of ``POST /ivr_servers``. The seed text adds what the schema leaves out: at least
    one of ``ipv4`` and ``ipv6`` must be given."""

    name: Name
    enabled: bool = True
    ipv4: str | None = None
    ipv6: str | None = None

    @model_validator(mode="after")
    def _one_address(self) -> Self:
        if not self.ipv4 and not self.ipv6:
            raise ValueError("ipv4 or ipv6: at least one of them must be given")
        return self


class IvrServerUpdate(WriteModel):
    enabled: bool | None = None


class IvrServer(ReadModel):
    id: Id
    name: str | None = None
    enabled: bool | None = None
    ipv4: str | None = None
    ipv6: str | None = None
    type: IvrServerType | None = None


class IvrServerStatus(ReadModel):
    cpu_usage: int | None = None
    memory_usage: int | None = None
    status: OnlineStatus | None = None


# --- virtual receptionists -----------------------------------------------------------


class _IvrFields(WriteModel):
    language: str | None = None
    dtmf_interval: PositiveInt32 | None = None
    prompt_file_id: Id | None = None
    transfer_prompt_file_id: Id | None = None
    enable_pin: bool | None = None
    timeout_forward_rule: TimeoutForwardRule | None = None
    failure_forward_rule: ForwardRule | None = None
    night_mode_forward_rule: ForwardRule | None = None
    custom_forward_rules: list[CustomForwardRule] | None = None
    outbound_caller_ids: list[OutboundCallerId] | None = None
    # Newer than the published schema (release notes: "Block Direct Extension Dialing" in
    # v22.3, night-mode changes in v22.5). Sent only when set, so older builds never see them.
    enable_night_mode: bool | None = None
    exclude_list: str | None = None


class IvrCreate(_IvrFields):
    """Body of ``POST /ivrs``: ``name``, ``extension_number`` and ``pin`` are required."""

    name: Name
    extension_number: ExtensionNumber
    pin: Pin


class IvrUpdate(_IvrFields):
    """Body of ``POST /ivrs/{id}``: any subset of the fields (the extension number is fixed)."""

    name: Name | None = None
    pin: Pin | None = None


class IvrSummary(ReadModel):
    """An item of ``GET /ivrs``: lists carry summaries only."""

    id: Id
    name: str | None = None
    extension_number: str | None = None


class Ivr(ReadModel):
    id: Id
    name: str | None = None
    extension_number: str | None = None
    language: str | None = None
    dtmf_interval: int | None = None
    prompt_file_name: str | None = None
    prompt_file_size: int | None = None
    prompt_file_url: str | None = None
    transfer_prompt_file_name: str | None = None
    transfer_prompt_file_size: int | None = None
    transfer_prompt_file_url: str | None = None
    enable_pin: bool | None = None
    pin: str | None = None
    timeout_forward_rule: TimeoutForwardRuleRead | None = None
    failure_forward_rule: ForwardRuleRead | None = None
    night_mode_forward_rule: ForwardRuleRead | None = None
    custom_forward_rules: list[CustomForwardRuleRead] = Field(default_factory=list)
    outbound_caller_ids: list[OutboundCallerIdRead] = Field(default_factory=list)
    enable_night_mode: bool | None = None
    exclude_list: str | None = None


class IvrStatus(ReadModel):
    status: OnlineStatus | None = None


# --- action URLs ---------------------------------------------------------------------


class _ActionUrlFields(WriteModel):
    name: Name | None = None
    enabled: bool | None = None
    type: ActionUrlType | None = None
    method: HttpMethod | None = None
    headers: str | None = None
    caller_mask: Mask | None = None
    dtmf_mask: Mask | None = None
    # OpenAPI: int32, minimum 0, default 2 (what 0 means to the PBX is not documented).
    connection_timeout: NonNegativeInt32 | None = None
    request_timeout: NonNegativeInt32 | None = None
    url: Url | None = None
    auth: AuthMode | None = None
    username: Credential | None = None
    password: Credential | None = None
    token: str | None = None

    @field_validator("caller_mask", "dtmf_mask")
    @classmethod
    def _unique_entries(cls, value: str | None) -> str | None:
        # The PBX rejects a mask that lists an entry twice (admin guide "Action URL";
        # reference/portsip.md §3). The full grammar lives in ivrhooks.masks.
        if value:
            entries = [e.strip() for e in value.split(";")]
            dupes = sorted({e for e in entries if entries.count(e) > 1})
            if dupes:
                raise ValueError(f"duplicate entries are not allowed: {', '.join(dupes)}")
        return value


class ActionUrlCreate(_ActionUrlFields):
    """Body of ``POST /ivrs/{id}/action_urls``. ``enabled`` defaults to false on the PBX."""

    @model_validator(mode="after")
    def _credentials_for_auth(self) -> Self:
        # A whole object only (a create, or the fake's stored one after an update): a partial
        # update may switch auth on credentials the PBX already holds.
        if self.auth in (AuthMode.BASIC, AuthMode.DIGEST):
            missing = [f for f in ("username", "password") if getattr(self, f) is None]
            if missing:
                raise ValueError(f"{' and '.join(missing)}: required when auth is {self.auth}")
        if self.auth is AuthMode.BEARER and not self.token:
            raise ValueError("token: required when auth is BEARER")
        return self


class ActionUrlUpdate(_ActionUrlFields):
    """Body of ``POST /ivrs/{id}/action_urls/{url_id}``: any subset of the fields (registration
    sends the full object: whether the PBX merges or replaces is not documented)."""


class ActionUrl(ReadModel):
    """An action URL as read back; a null ``enabled``/``auth`` reads as the schema default."""

    id: Id
    name: str | None = None
    enabled: bool = False
    type: ActionUrlType | None = None
    method: HttpMethod | None = None
    headers: str | None = None
    caller_mask: str | None = None
    dtmf_mask: str | None = None
    connection_timeout: int | None = None
    request_timeout: int | None = None
    url: str | None = None
    auth: AuthMode = AuthMode.DISABLE
    username: str | None = None
    password: str | None = None
    token: str | None = None


# --- envelopes -----------------------------------------------------------------------

T = TypeVar("T")


class Page(ReadModel, Generic[T]):
    """A list response: ``{"count": total, "items": [...]}``."""

    count: int | None = None
    items: list[T] = Field(default_factory=list)


class ActionUrlList(ReadModel):
    """``GET /ivrs/{id}/action_urls`` takes no parameters and has no ``count``."""

    items: list[ActionUrl] = Field(default_factory=list)


class ListQuery(WriteModel):
    filter: str | None = None
    search: str | None = None
    orderby: str | None = None
    # 0-based, as the schema says (minimum 0, default 0); the About prose calls it 1-based.
    skip: NonNegativeInt32 | None = None
    top: Annotated[int, Field(ge=1, le=100)] | None = None


class Created(ReadModel):
    id: Id
