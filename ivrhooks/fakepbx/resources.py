"""The fake PBX's resource logic: validate with ``ivrhooks.models``, then change the store.

Plain functions of (store, body) so the REST handlers and the test conveniences
(``FakePBX.add_ivr``) share one path. Every rejection raises :class:`APIError` before any
state changes.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from ivrhooks.errors import MaskError
from ivrhooks.fakepbx.matching import compile_mask
from ivrhooks.fakepbx.store import Row, Store, new_id
from ivrhooks.models import (
    ActionUrlCreate,
    ActionUrlUpdate,
    IvrCreate,
    IvrServerCreate,
    IvrServerUpdate,
    IvrUpdate,
    to_wire,
)

__all__ = ["APIError", "Resources", "validation_error"]

M = TypeVar("M", bound=BaseModel)

ACTION_URL_DEFAULTS: Row = {
    "name": "",
    "enabled": False,  # the real schema's default: registrations must send true
    "type": "DTMF",
    "method": "GET",
    "headers": "",
    "caller_mask": "",
    "dtmf_mask": "",
    "connection_timeout": 2,
    "request_timeout": 2,
    "url": "",
    "auth": "DISABLE",
    "username": "",
    "password": "",
    "token": "",
}


class APIError(Exception):
    """An error answer: HTTP ``status`` and one ``errors[]`` item (PortSIP REST "About")."""

    def __init__(self, status: int, code: str, message: str, detail: Any = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.detail = status, code, message, detail

    def body(self) -> dict[str, Any]:
        item = {"code": self.code, "message": self.message, "detail": self.detail}
        return {"errors": [item]}


def validation_error(exc: ValidationError) -> APIError:
    problems = []
    for error in exc.errors():
        field = ".".join(str(p) for p in error["loc"])
        message = str(error["msg"]).removeprefix("Value error, ")
        problems.append({"field": field, "message": message})
    text = "; ".join(
        f"{p['field']}: {p['message']}" if p["field"] else p["message"] for p in problems
    )
    return APIError(422, "VALIDATE_FAILED", text, problems)


def _validate(model: type[M], body: Any) -> M:
    if not isinstance(body, dict):
        raise APIError(400, "VALIDATE_FAILED", "body: must be a JSON object")
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise validation_error(exc) from None


def _invalid(field: str, message: str) -> APIError:
    return APIError(
        422, "VALIDATE_FAILED", f"{field}: {message}", [{"field": field, "message": message}]
    )


class Resources:
    def __init__(self, store: Store) -> None:
        self.store = store

    # --- lookups ----------------------------------------------------------------------

    def server(self, sid: str) -> Row:
        if sid not in self.store.ivr_servers:
            raise APIError(404, "UNKNOWN", f"id: no virtual receptionist server {sid!r}")
        return self.store.ivr_servers[sid]

    def ivr(self, ivr_id: str) -> Row:
        if ivr_id not in self.store.ivrs:
            raise APIError(404, "UNKNOWN", f"id: no virtual receptionist {ivr_id!r}")
        return self.store.ivrs[ivr_id]

    def action_url(self, ivr_id: str, url_id: str) -> Row:
        urls = self.store.action_urls.get(self.ivr(ivr_id)["id"], {})
        if url_id not in urls:
            raise APIError(404, "UNKNOWN", f"url_id: no action url {url_id!r}")
        return urls[url_id]

    # --- IVR servers ------------------------------------------------------------------

    def create_server(self, body: Any, *, kind: str = "EXTERNAL") -> str:
        data = to_wire(_validate(IvrServerCreate, body))
        row = {"id": new_id(), "enabled": True, "ipv4": "", "ipv6": "", **data, "type": kind}
        self.store.put("ivr_server", row)
        return str(row["id"])

    def update_server(self, sid: str, body: Any) -> None:
        row = self.server(sid)
        self.store.put("ivr_server", {**row, **to_wire(_validate(IvrServerUpdate, body))})

    def destroy_server(self, sid: str) -> None:
        if self.server(sid)["type"] == "INTERNAL":
            raise APIError(400, "VALIDATE_FAILED", "id: the INTERNAL server cannot be deleted")
        self.store.delete("ivr_server", sid)

    # --- receptionists ----------------------------------------------------------------

    def create_ivr(self, body: Any) -> str:
        data = to_wire(_validate(IvrCreate, body))
        if any(r["extension_number"] == data["extension_number"] for r in self.store.ivrs.values()):
            raise _invalid("extension_number", f"{data['extension_number']} is already in use")
        row = {
            "id": new_id(),
            "language": "en-US",
            "dtmf_interval": 2,
            "enable_pin": True,
            "enable_night_mode": False,
            "exclude_list": "",
            **data,
        }
        self.store.put("ivr", row)
        return str(row["id"])

    def update_ivr(self, ivr_id: str, body: Any) -> None:
        row = self.ivr(ivr_id)
        self.store.put("ivr", {**row, **to_wire(_validate(IvrUpdate, body))})

    def destroy_ivr(self, ivr_id: str) -> None:
        self.ivr(ivr_id)
        self.store.delete("ivr", ivr_id)

    # --- action URLs ------------------------------------------------------------------

    def _checked_action_url(self, row: Row) -> Row:
        # Cross-field rules hold for the merged object, not only for what this call sent.
        set_fields = {k: v for k, v in row.items() if k != "id" and v != ""}
        _validate(ActionUrlCreate, set_fields)
        for field, kind in (("dtmf_mask", "DTMF"), ("caller_mask", "CALLER")):
            if row[field]:
                try:
                    compile_mask(row[field], kind)
                except MaskError as exc:
                    raise _invalid(field, str(exc)) from None
        return row

    def create_action_url(self, ivr_id: str, body: Any) -> str:
        self.ivr(ivr_id)
        data = to_wire(_validate(ActionUrlCreate, body))
        row = self._checked_action_url({"id": new_id(), **ACTION_URL_DEFAULTS, **data})
        self.store.put("action_url", row, parent=ivr_id)
        return str(row["id"])

    def update_action_url(self, ivr_id: str, url_id: str, body: Any) -> None:
        row = self.action_url(ivr_id, url_id)
        data = to_wire(_validate(ActionUrlUpdate, body))
        merged = self._checked_action_url({**row, **data})
        self.store.put("action_url", merged, parent=ivr_id)

    def destroy_action_url(self, ivr_id: str, url_id: str) -> None:
        self.action_url(ivr_id, url_id)
        self.store.delete("action_url", url_id, parent=ivr_id)
