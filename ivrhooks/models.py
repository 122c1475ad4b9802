"""The PortSIP Virtual Receptionist REST API, as pydantic models.

One module serves both sides: ``ivrhooks.pbx.PBXClient`` validates what it sends with these
models, and the fake PBX (``ivrhooks.testing``) validates what it receives with the same ones,
so the wire format lives here only. Field constraints follow the seed API text
(``/ivr_servers``, ``/ivrs``, ``/ivrs/{id}/action_urls``).

- *Write* models (``...Create``, ``...Update``) forbid unknown fields and are serialised with
  :func:`to_wire`, which sends only the fields that were set.
- *Read* models ignore fields they do not know: newer PBX builds add fields.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Generic, Self, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

__all__ = [
    "ActionUrl",
    "ActionUrlCreate",
    "ActionUrlList",
    "ActionUrlType",
    "ActionUrlUpdate",
    "AuthMode",
    "Created",
    "ErrorBody",
    "ErrorItem",
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


Name = Annotated[str, StringConstraints(min_length=1, max_length=64)]
ExtensionNumber = Annotated[str, StringConstraints(pattern=r"^[0-9]{3,64}$")]
Mask = Annotated[str, StringConstraints(max_length=255)]
Credential = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]{6,64}$")]
Url = Annotated[str, StringConstraints(min_length=1, max_length=1024)]
Id = str  # opaque; never built or parsed (PortSIP REST "About")


class _Write(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=False)


class _Read(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


def to_wire(model: BaseModel) -> dict[str, Any]:
    """The JSON body for a write: only the fields that were set, enums as strings."""
    return model.model_dump(mode="json", exclude_unset=True)


# --- IVR servers (media servers, not receptionists) -------------------------------------


class IvrServerCreate(_Write):
    name: Name
    enabled: bool = True
    ipv4: str | None = None
    ipv6: str | None = None

    @model_validator(mode="after")
    def _one_address(self) -> Self:
        if not self.ipv4 and not self.ipv6:
            raise ValueError("ipv4 or ipv6: at least one of them must be given")
        return self


class IvrServerUpdate(_Write):
    enabled: bool | None = None


class IvrServer(_Read):
    id: Id
    name: str | None = None
    enabled: bool | None = None
    ipv4: str | None = None
    ipv6: str | None = None
    type: IvrServerType | None = None


class IvrServerStatus(_Read):
    cpu_usage: int | None = None
    memory_usage: int | None = None
    status: OnlineStatus | None = None


# --- virtual receptionists -----------------------------------------------------------


class IvrCreate(_Write):
    name: Name
    extension_number: ExtensionNumber
    pin: str
    language: str | None = None
    dtmf_interval: Annotated[int, Field(ge=1)] | None = None
    prompt_file_id: Id | None = None
    transfer_prompt_file_id: Id | None = None
    enable_pin: bool | None = None
    enable_night_mode: bool | None = None
    exclude_list: str | None = None


class IvrUpdate(_Write):
    name: Name | None = None
    language: str | None = None
    dtmf_interval: Annotated[int, Field(ge=1)] | None = None
    prompt_file_id: Id | None = None
    transfer_prompt_file_id: Id | None = None
    enable_pin: bool | None = None
    pin: str | None = None
    enable_night_mode: bool | None = None
    exclude_list: str | None = None


class IvrSummary(_Read):
    """An item of ``GET /ivrs``: lists carry summaries only."""

    id: Id
    name: str | None = None
    extension_number: str | None = None


class Ivr(_Read):
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
    enable_night_mode: bool | None = None
    exclude_list: str | None = None


class IvrStatus(_Read):
    status: OnlineStatus | None = None


# --- action URLs ---------------------------------------------------------------------


class _ActionUrlFields(_Write):
    name: Name | None = None
    enabled: bool | None = None
    type: ActionUrlType | None = None
    method: HttpMethod | None = None
    headers: str | None = None
    caller_mask: Mask | None = None
    dtmf_mask: Mask | None = None
    connection_timeout: Annotated[int, Field(ge=1)] | None = None
    request_timeout: Annotated[int, Field(ge=1)] | None = None
    url: Url | None = None
    auth: AuthMode | None = None
    username: Credential | None = None
    password: Credential | None = None
    token: Annotated[str, StringConstraints(min_length=1)] | None = None

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

    @model_validator(mode="after")
    def _credentials_for_auth(self) -> Self:
        if self.auth in (AuthMode.BASIC, AuthMode.DIGEST):
            missing = [f for f in ("username", "password") if getattr(self, f) is None]
            if missing:
                raise ValueError(f"{' and '.join(missing)}: required when auth is {self.auth}")
        if self.auth is AuthMode.BEARER and self.token is None:
            raise ValueError("token: required when auth is BEARER")
        return self


class ActionUrlCreate(_ActionUrlFields):
    """Body of ``POST /ivrs/{id}/action_urls``. ``enabled`` defaults to false on the PBX."""


class ActionUrlUpdate(_ActionUrlFields):
    """Body of ``POST /ivrs/{id}/action_urls/{url_id}``: send the full object."""


class ActionUrl(_Read):
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


class Page(_Read, Generic[T]):
    """A list response: ``{"count": total, "items": [...]}``."""

    count: int | None = None
    items: list[T] = Field(default_factory=list)


class ActionUrlList(_Read):
    """``GET /ivrs/{id}/action_urls`` takes no parameters and has no ``count``."""

    items: list[ActionUrl] = Field(default_factory=list)


class ListQuery(_Write):
    filter: str | None = None
    search: str | None = None
    orderby: str | None = None
    skip: Annotated[int, Field(ge=0)] | None = None
    top: Annotated[int, Field(ge=1, le=100)] | None = None


class Created(_Read):
    id: Id


class ErrorItem(_Read):
    code: str = "UNKNOWN"
    message: str = ""
    detail: Any = None


class ErrorBody(_Read):
    errors: list[ErrorItem] = Field(default_factory=list)


class TokenResponse(_Read):
    access_token: str | None = None
    expires_in: int | None = None
    refresh_token: str | None = None
    token_type: str | None = None
    two_factor_enabled: bool | None = None
