"""The fake PBX's resource logic: validate with ``ivrhooks.models``, then change the store.

Plain functions of (store, body) so the REST handlers and the test conveniences
(``FakePBX.add_ivr``) share one path. Every rejection raises :class:`APIError` before any
state changes. Like the published schema, and unlike pydantic's default, bodies are checked
strictly: ``"yes"`` or ``1`` is not a boolean, ``"2"`` is not an integer, ``null`` is not a
string. Blank fields are stored and returned as null (PortSIP REST "About", Data Format).
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from ivrhooks.errors import MaskError
from ivrhooks.fakepbx.matching import compile_mask
from ivrhooks.fakepbx.store import Row, Store, new_id
from ivrhooks.schema.models import (
    ActionUrlCreate,
    ActionUrlUpdate,
    IvrCreate,
    IvrServerCreate,
    IvrServerUpdate,
    IvrUpdate,
    to_wire,
)
from ivrhooks.schema.wire import validation_problems

__all__ = ["APIError", "Resources", "pin_policy_problem", "validation_error"]

M = TypeVar("M", bound=BaseModel)

ACTION_URL_DEFAULTS: Row = {
    "name": None,
    "enabled": False,  # the real schema's default: registrations must send true
    "type": "DTMF",
    "method": "GET",
    "headers": None,
    "caller_mask": None,
    "dtmf_mask": None,
    "connection_timeout": 2,
    "request_timeout": 2,
    "url": None,
    "auth": "DISABLE",
    "username": None,
    "password": None,
    "token": None,
}

IVR_DEFAULTS: Row = {
    "language": "en-US",
    "dtmf_interval": 2,
    "prompt_file_name": None,
    "prompt_file_size": None,
    "prompt_file_url": None,
    "transfer_prompt_file_name": None,
    "transfer_prompt_file_size": None,
    "transfer_prompt_file_url": None,
    "enable_pin": True,
    # OpenAPI defaults of the no-input rule: 30 s, 3 repeats (reference/portsip.md §5).
    "timeout_forward_rule": {"timeout": 30, "repeat_times": 3, "action": None, "number": None},
    "failure_forward_rule": None,
    "night_mode_forward_rule": None,
    "custom_forward_rules": [],
    "outbound_caller_ids": [],
    "enable_night_mode": False,
    "exclude_list": None,
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
    problems = [{"field": f, "message": m} for f, m in validation_problems(exc)]
    text = "; ".join(
        f"{p['field']}: {p['message']}" if p["field"] else p["message"] for p in problems
    )
    return APIError(422, "VALIDATE_FAILED", text, problems)


def _validate(model: type[M], body: Any) -> M:
    if not isinstance(body, dict):
        raise APIError(400, "VALIDATE_FAILED", "body: must be a JSON object")
    try:
        # Strict JSON validation: the types of the published schema, no coercion.
        return model.model_validate_json(json.dumps(body), strict=True)
    except ValidationError as exc:
        raise validation_error(exc) from None


def _blanks_to_null(data: Row) -> Row:
    """ "Blank fields are explicitly included as null values" (REST "About", Data Format)."""
    return {key: (None if value == "" else value) for key, value in data.items()}


def pin_policy_problem(pin: str) -> str | None:
    """What PortSIP's PIN policy says against ``pin`` (OpenAPI ``/ivrs`` ``pin``), or None.

    The schema checks 6-10 characters and ivrhooks.models digits only; the policy's other two
    rules are prose: "no repeating numbers (e.g. 111, 222)" and "no sequential numbers (e.g.
    012, 789)". Read literally, as three in a row: a fake may refuse what the PBX refuses.
    """
    for i in range(len(pin) - 2):
        a, b, c = (int(d) for d in pin[i : i + 3])
        if a == b == c:
            return f"must not repeat a digit three times in a row ({pin[i : i + 3]})"
        if b == a + 1 and c == b + 1:
            return f"must not contain three ascending digits ({pin[i : i + 3]})"
    return None


def _check_pin(data: Row) -> None:
    pin = data.get("pin")
    problem = None if pin is None else pin_policy_problem(str(pin))
    if problem is not None:
        raise _invalid("pin", problem)


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
        row = {"id": new_id(), "enabled": True, "ipv4": None, "ipv6": None, **data, "type": kind}
        row = _blanks_to_null(row)
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
        _check_pin(data)
        if any(r["extension_number"] == data["extension_number"] for r in self.store.ivrs.values()):
            raise _invalid("extension_number", f"{data['extension_number']} is already in use")
        row = _blanks_to_null({"id": new_id(), **IVR_DEFAULTS, **data})
        self.store.put("ivr", row)
        return str(row["id"])

    def update_ivr(self, ivr_id: str, body: Any) -> None:
        row = self.ivr(ivr_id)
        data = to_wire(_validate(IvrUpdate, body))
        _check_pin(data)
        self.store.put("ivr", _blanks_to_null({**row, **data}))

    @staticmethod
    def render_ivr(row: Row) -> Row:
        """A stored receptionist as ``GET /ivrs/{id}`` answers it: every field, blanks null.

        A custom rule's ``holidays`` is written as ids and read as holiday objects (OpenAPI).
        """
        rules = []
        for rule in row.get("custom_forward_rules") or []:
            holidays = [{"id": hid} for hid in rule.get("holidays") or []]
            rules.append({**rule, "holidays": holidays})
        return {**IVR_DEFAULTS, **row, "custom_forward_rules": rules}

    def destroy_ivr(self, ivr_id: str) -> None:
        self.ivr(ivr_id)
        self.store.delete("ivr", ivr_id)

    # --- action URLs ------------------------------------------------------------------

    def _checked_action_url(self, row: Row) -> Row:
        # Cross-field rules hold for the merged object, not only for what this call sent.
        set_fields = {k: v for k, v in row.items() if k != "id" and v is not None}
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
        row = {"id": new_id(), **ACTION_URL_DEFAULTS, **data}
        row = self._checked_action_url(_blanks_to_null(row))
        self.store.put("action_url", row, parent=ivr_id)
        return str(row["id"])

    def update_action_url(self, ivr_id: str, url_id: str, body: Any) -> None:
        row = self.action_url(ivr_id, url_id)
        data = to_wire(_validate(ActionUrlUpdate, body))
        merged = self._checked_action_url(_blanks_to_null({**row, **data}))
        self.store.put("action_url", merged, parent=ivr_id)

    def destroy_action_url(self, ivr_id: str, url_id: str) -> None:
        self.action_url(ivr_id, url_id)
        self.store.delete("action_url", url_id, parent=ivr_id)
