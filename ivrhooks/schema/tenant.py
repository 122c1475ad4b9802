"""The tenant's event URLs (``GET``/``POST /tenant``, fields ``cdr_event`` and
``extension_event``), as pydantic models shared by the REST client and the fake PBX.

PortSIP's OpenAPI document (knowledge base ``.gitbook/assets/openapi (5).json``, ``/tenant``)
gives both fields one shape: ``enabled`` (default false), ``auth`` (``DISABLE`` default,
``BASIC``, ``DIGEST``, ``BEARER``), ``username`` and ``password`` (6-64 characters of
``a-z0-9``, for Basic and Digest), ``token`` (for Bearer) and ``url`` (1-128 characters; its
published ``pattern`` is the credentials' one, copied by mistake as for action URLs, and is not
applied). There is one object of each kind per tenant, with no name or owner.

Not documented: whether ``POST /tenant`` merges or replaces (the REST "About" page says POST
replaces), whether ``GET /tenant`` returns ``password`` and ``token``, and whether a POST needs
``website`` (v22.6.0 made it required in the portal). The fake PBX's choices are in
:mod:`ivrhooks.fakepbx.webhooks.tenant`.
"""

from __future__ import annotations

from typing import Any, Final, Self

from pydantic import ConfigDict, model_validator

from ivrhooks.schema.models import AuthMode
from ivrhooks.schema.wire import Credential, ReadModel, Url, WriteModel

__all__ = [
    "EVENT_FIELDS",
    "TENANT_UPDATE_FIELDS",
    "EventUrl",
    "EventUrlSettings",
    "EventUrlUpdate",
    "Tenant",
    "TenantUpdate",
]

#: The tenant's two event URL fields, by the kind of event each receives.
EVENT_FIELDS: Final = {"cdr": "cdr_event", "extension": "extension_event"}

#: The fields ``POST /tenant`` takes (OpenAPI ``updateSettings``): 30, every one optional.
TENANT_UPDATE_FIELDS: Final = frozenset(
    {
        "name",
        "domain",
        "website",
        "timezone",
        "currency",
        "region",
        "enable_video_recording",
        "enable_audio_recording",
        "enable_dual_track_recording",
        "enable_night_mode",
        "enable_two_factor_authentication",
        "custom_options",
        "recording_retention",
        "call_report_retention",
        "log_retention",
        "temp_file_retention",
        "extension_im_disk_quota",
        "office_hours",
        "outbound_caller_ids",
        "e164",
        "cdr_event",
        "extension_event",
        "contact_match_type",
        "contact_match_length",
        "contact_append_type",
        "contact_update_interval",
        "password_force_reset",
        "avatar_file_id",
        "stir_shaken_cert",
        "stir_shaken_key",
    }
)


class EventUrlUpdate(WriteModel):
    """An event URL object as written (``POST /tenant``): any subset of its fields, each to
    the published rule."""

    enabled: bool | None = None
    auth: AuthMode | None = None
    username: Credential | None = None
    password: Credential | None = None
    token: str | None = None
    url: Url | None = None


class EventUrlSettings(EventUrlUpdate):
    """A whole event URL object: the field rules, plus the credentials its ``auth`` needs (the
    portal asks for a username and password with Basic and Digest, a token with Bearer:
    ``webhook-notifications/registering-a-webhook.md``) and a ``url`` when it is enabled."""

    @model_validator(mode="after")
    def _complete(self) -> Self:
        if self.auth in (AuthMode.BASIC, AuthMode.DIGEST):
            missing = [f for f in ("username", "password") if getattr(self, f) is None]
            if missing:
                raise ValueError(f"{' and '.join(missing)}: required when auth is {self.auth}")
        if self.auth is AuthMode.BEARER and not self.token:
            raise ValueError("token: required when auth is BEARER")
        if self.enabled and not self.url:
            raise ValueError("url: required when enabled is true")
        return self


class EventUrl(ReadModel):
    """An event URL object as read back; ``null``s read as the defaults (disabled, no auth)."""

    enabled: bool = False
    auth: AuthMode = AuthMode.DISABLE
    username: str | None = None
    password: str | None = None
    token: str | None = None
    url: str | None = None


class TenantUpdate(WriteModel):
    """The body of ``POST /tenant``. The event URL objects are checked field by field; the other
    documented fields are taken as they are, and a field ``POST /tenant`` does not document is
    refused (as every write model refuses unknown fields)."""

    model_config = ConfigDict(extra="allow")  # the documented others: checked just below

    cdr_event: EventUrlUpdate | None = None
    extension_event: EventUrlUpdate | None = None

    @model_validator(mode="before")
    @classmethod
    def _documented_only(cls, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(str(key) for key in data if key not in TENANT_UPDATE_FIELDS)
            if unknown:
                raise ValueError(f"{', '.join(unknown)}: not a field of POST /tenant")
        return data


class Tenant(ReadModel):
    """``GET /tenant``: the current tenant. Only what ivrhooks reads is modelled; the other
    fields (office hours, quotas, features...) are ignored."""

    id: str | None = None
    name: str | None = None
    domain: str | None = None
    website: str | None = None
    cdr_event: EventUrl = EventUrl()
    extension_event: EventUrl = EventUrl()
