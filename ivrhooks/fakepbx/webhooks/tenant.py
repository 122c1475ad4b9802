"""``GET /api/tenant`` and ``POST /api/tenant``: the tenant, and the two event URLs it posts to.

PortSIP's OpenAPI (``openapi (5).json``, ``/tenant``) documents both; what it leaves open, the
fake decides, and a real PBX may decide otherwise (portsip-events.md, "Not documented" 11):

- ``POST`` **merges** the top-level fields it is given: ``{"cdr_event": {...}}`` replaces the
  whole ``cdr_event`` object and leaves every other field as it was. ``website`` is not
  required (the published schema requires nothing; v22.6.0's portal made it required).
- Each event object is checked against the published field rules, and as a whole: Basic and
  Digest need ``username`` and ``password``, Bearer a ``token``, an enabled object a ``url``
  (:class:`~ivrhooks.schema.tenant.EventUrlSettings`). A rejected POST changes nothing.
- ``GET`` returns every field of the event objects, unset ones as ``null`` (REST "About": blank
  fields are null), ``password`` and ``token`` included unless the fake was made with
  ``FakePBX(hide_event_secrets=True)``, which leaves both out.

The tenant is kept in memory only (not in a ``db=`` file).
"""

from __future__ import annotations

import json
import secrets
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ivrhooks.fakepbx.resources import APIError, validation_error
from ivrhooks.schema.tenant import EVENT_FIELDS, EventUrlSettings, TenantUpdate
from ivrhooks.schema.wire import to_wire

if TYPE_CHECKING:
    from ivrhooks.fakepbx.state import PBXState

__all__ = [
    "EVENT_URL_FIELDS",
    "SECRET_FIELDS",
    "default_tenant",
    "event_url_settings",
    "get_tenant",
    "render_tenant",
    "update_tenant",
]

#: Every field of an event URL object, in the published order.
EVENT_URL_FIELDS = ("enabled", "auth", "username", "password", "token", "url")
#: What ``FakePBX(hide_event_secrets=True)`` leaves out of ``GET /tenant``.
SECRET_FIELDS = ("password", "token")


def default_tenant(domain: str) -> dict[str, Any]:
    """A new PBX's tenant: both event URLs unset and disabled (the published defaults)."""
    blank = {"enabled": False, "auth": "DISABLE"}
    return {
        # PortSIP's ids are snowflakes in string form (event-reference.md's tenant_id).
        "id": str(secrets.randbits(59) | 1 << 59),
        "name": "Fake tenant",
        "domain": domain,
        "website": None,
        "cdr_event": dict(blank),
        "extension_event": dict(blank),
    }


def event_url_settings(body: Any, field: str) -> dict[str, Any]:
    """``body`` checked as a whole event URL object (strict JSON types); its wire form."""
    try:
        model = EventUrlSettings.model_validate_json(json.dumps(body), strict=True)
    except ValidationError as exc:
        error = validation_error(exc)
        raise APIError(422, error.code, f"{field}: {error.message}", error.detail) from None
    return to_wire(model)


def render_tenant(tenant: dict[str, Any], *, hide_secrets: bool) -> dict[str, Any]:
    """The tenant as ``GET /tenant`` answers it."""
    shown = dict(tenant)
    for field in EVENT_FIELDS.values():
        stored = tenant.get(field) or {}
        shown[field] = {
            name: stored.get(name)
            for name in EVENT_URL_FIELDS
            if not (hide_secrets and name in SECRET_FIELDS)
        }
    return shown


async def get_tenant(pbx: PBXState, request: Request) -> Response:
    return JSONResponse(render_tenant(pbx.tenant, hide_secrets=pbx.hide_event_secrets))


async def update_tenant(pbx: PBXState, request: Request) -> Response:
    raw = await request.body()
    try:
        body = json.loads(raw) if raw else {}
    except ValueError:
        raise APIError(400, "VALIDATE_FAILED", "body: not valid JSON") from None
    if not isinstance(body, dict):
        raise APIError(400, "VALIDATE_FAILED", "body: must be a JSON object")
    try:
        TenantUpdate.model_validate_json(raw or b"{}", strict=True)
    except ValidationError as exc:
        raise validation_error(exc) from None
    merged = dict(body)
    for field in EVENT_FIELDS.values():
        if field in body:
            merged[field] = event_url_settings(body[field], field)
    pbx.tenant.update(merged)  # every check passed: now, and only now, state changes
    return Response(status_code=200)
