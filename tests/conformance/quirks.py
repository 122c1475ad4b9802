"""Where PortSIP's published OpenAPI document is wrong or silent, and what the tests do there.

Each :class:`Quirk` names one mistake or gap of ``portsip-openapi-ivr.json``, says how ivrhooks
handles it, and (when the check needs it) adjusts a copy of the document before requests and
responses are validated against it. The document itself stays unchanged on disk. The same list,
by id, is in docs/rest-api.md ("Where the published document is wrong"); a test keeps the two
in step, and ``test_quirks.py`` proves each adjustment is needed: the unadjusted document
refuses traffic that a real PBX certainly exchanges.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from ivrhooks.pbx.generations import OAUTH_CLIENT_ID

__all__ = ["QUIRKS", "Quirk", "adjusted"]

Document = dict[str, Any]


@dataclass(frozen=True)
class Quirk:
    id: str
    document: str  # what the published document says
    handling: str  # what ivrhooks does about it
    apply: Callable[[Document], None] | None = None


def _operations(doc: Document) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def _schemas(node: Any) -> Iterator[dict[str, Any]]:
    """Every dict below ``node``, depth first."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _schemas(value)
    elif isinstance(node, list):
        for value in node:
            yield from _schemas(value)


def _json_schema(container: dict[str, Any], media: str = "application/json") -> Any:
    return container.get("content", {}).get(media, {}).get("schema")


def _drop_url_pattern(doc: Document) -> None:
    for path, _, operation in _operations(doc):
        if path.startswith("/ivrs/{id}/action_urls"):
            for node in _schemas(operation):
                url = node.get("properties", {}).get("url")
                if isinstance(url, dict):
                    url.pop("pattern", None)


def _anchor_patterns(doc: Document) -> None:
    for node in _schemas(doc["paths"]):
        pattern = node.get("pattern")
        if isinstance(pattern, str) and not pattern.startswith("^"):
            node["pattern"] = f"^(?:{pattern})$"


def _two_factor_or_token(one_of: list[dict[str, Any]]) -> dict[str, Any]:
    two_factor, token = one_of
    return {
        "if": {
            "type": "object",
            "required": ["two_factor_enabled"],
            "properties": {"two_factor_enabled": {"const": True}},
        },
        "then": two_factor,
        "else": {**token, "required": ["access_token"]},
    }


def _split_sign_in_one_of(doc: Document) -> None:
    ok = doc["paths"]["/auth/sign_in"]["post"]["responses"]["200"]
    schema = _json_schema(ok)
    ok["content"]["application/json"]["schema"] = _two_factor_or_token(schema["oneOf"])


def _any_4xx(doc: Document) -> None:
    for _, _, operation in _operations(doc):
        operation["responses"].setdefault("4XX", {"description": "Error (quirk errors-any-4xx)"})


def _error_response(doc: Document) -> dict[str, Any]:
    body = {k: v for k, v in doc["x-error-body"].items() if not k.startswith("x-")}
    return {"description": "Error", "content": {"application/json": {"schema": body}}}


def _error_body(doc: Document) -> None:
    for _, _, operation in _operations(doc):
        for status, response in operation["responses"].items():
            if status.startswith("4"):
                response["content"] = copy.deepcopy(_error_response(doc)["content"])


def _nullable(schema: Any) -> Any:
    if not isinstance(schema, dict):
        return schema
    schema = dict(schema)
    if "properties" in schema:
        schema["properties"] = {
            name: {"anyOf": [_nullable(sub), {"type": "null"}]}
            for name, sub in schema["properties"].items()
        }
    if "items" in schema:
        schema["items"] = _nullable(schema["items"])
    for key in ("allOf", "anyOf", "oneOf"):
        if key in schema:
            schema[key] = [_nullable(sub) for sub in schema[key]]
    for key in ("if", "then", "else"):
        if key in schema:
            schema[key] = _nullable(schema[key])
    return schema


def _nulls_for_blanks(doc: Document) -> None:
    for _, _, operation in _operations(doc):
        for status, response in operation["responses"].items():
            if status.startswith("2") and _json_schema(response) is not None:
                media = response["content"]["application/json"]
                media["schema"] = _nullable(media["schema"])


def _date_time_format(doc: Document) -> None:
    for node in _schemas(doc["paths"]):
        if node.get("format") == "date_time":
            node["format"] = "date-time"


def _post_login_reply(doc: Document) -> None:
    login = doc["paths"]["/login"]
    status = _json_schema(login["get"]["responses"]["200"])
    sign_in = _json_schema(doc["paths"]["/auth/sign_in"]["post"]["responses"]["200"])
    two_factor = sign_in["oneOf"][0] if "oneOf" in sign_in else sign_in["then"]
    reply = _two_factor_or_token([two_factor, copy.deepcopy(status)])
    login["post"]["responses"]["200"]["content"] = {"application/json": {"schema": reply}}


def _oauth_operation(doc: Document) -> None:
    text = {"type": "string"}
    form = {
        "type": "object",
        "required": ["grant_type", "client_id"],
        "properties": {
            "grant_type": {"enum": ["password", "refresh_token"]},
            "client_id": {"const": OAUTH_CLIENT_ID},
            "scope": {"const": "all"},
            "username": text,
            "password": text,
            "domain": {"type": "string", "minLength": 1, "maxLength": 280},
            "refresh_token": text,
        },
        "additionalProperties": False,
        "if": {"properties": {"grant_type": {"const": "password"}}},
        "then": {"required": ["username", "password", "scope"]},
        "else": {"required": ["refresh_token"]},
    }
    refreshed = doc["paths"]["/auth/refresh_token"]["post"]["responses"]["200"]
    doc["paths"]["/login/oauth/token"] = {
        "post": {
            "operationId": "x-oauthToken",
            "security": [],
            "requestBody": {
                "required": True,
                "content": {"application/x-www-form-urlencoded": {"schema": form}},
            },
            "responses": {"200": copy.deepcopy(refreshed), "4XX": _error_response(doc)},
        }
    }


def _auth_user_operation(doc: Document) -> None:
    user = {
        "type": "object",
        "properties": {
            "role": {"type": "string", "minLength": 1, "maxLength": 64},
            "password_force_reset": {"type": "boolean"},
            "capabilities": {"type": "array"},
        },
    }
    doc["paths"]["/auth/user"] = {
        "get": {
            "operationId": "x-getAuthUser",
            "responses": {
                "200": {"content": {"application/json": {"schema": user}}},
                "4XX": _error_response(doc),
            },
        }
    }


QUIRKS: tuple[Quirk, ...] = (
    Quirk(
        "url-pattern",
        "An action URL's `url` carries `pattern: [a-z0-9]{6,64}`, the credentials' pattern "
        "copied by mistake: `http://127.0.0.1:51234/hooks/x` has no six such characters in a row.",
        "ivrhooks checks `url` as 1 to 128 characters and nothing more; the tests drop the "
        "pattern from `url` (and only there).",
        _drop_url_pattern,
    ),
    Quirk(
        "unanchored-patterns",
        "Patterns are unanchored (`[0-9]{3,64}`, `[a-z0-9]{6,64}`): in JSON Schema they match "
        "any value that merely contains such a run, so `ab8000` is an extension number.",
        "ivrhooks (client and fake) matches the whole value; the tests anchor every pattern, so "
        "they check the stricter rule.",
        _anchor_patterns,
    ),
    Quirk(
        "sign-in-one-of",
        "`POST /auth/sign_in` answers a `oneOf` of a two-factor object and a token object; both "
        "have only optional properties, so every object matches both and the `oneOf` never holds.",
        "Read as what it means: `two_factor_enabled: true` is the two-factor reply "
        "(`TwoFactorRequiredError`), anything else a token reply, which must have `access_token`.",
        _split_sign_in_one_of,
    ),
    Quirk(
        "skip-1-based",
        "The About section calls `skip` 1-based; the schema of every list says `minimum: 0, "
        "default: 0`.",
        "The schema wins: `skip` is 0-based, the first page is `skip=0` (`ListQuery`, the fake's "
        "paging; `test_traffic.py` checks the first item comes back at `skip=0`).",
    ),
    Quirk(
        "errors-any-4xx",
        "Destroy responses miss the 404 for an unknown id (`/ivrs/{id}/destroy` lists 204 and 400 "
        "only) and no operation lists 401 for a refused token.",
        "Any 4xx with the documented error body conforms on every operation: the About section "
        "says errors are 4xx with `errors[]`. The client maps 404 and 401 everywhere.",
        _any_4xx,
    ),
    Quirk(
        "error-body",
        "The 4XX responses carry no schema; the error body is described only in prose (About, "
        "Error Handling), quoted as `x-error-body` in the subset.",
        "4xx bodies are validated against `x-error-body`: `{errors: [{code, message, detail?}]}`.",
        _error_body,
    ),
    Quirk(
        "nulls-for-blanks",
        'About (Data Format): "Blank fields are explicitly included as null values", yet no '
        "response schema allows null.",
        "Read models take a null as the field's default (`enabled` false, `auth` DISABLE); the "
        "fake returns null for blanks; the tests allow null for every response property.",
        _nulls_for_blanks,
    ),
    Quirk(
        "holidays-ids-and-objects",
        "A custom rule's `holidays` is written as an array of ids whose items are marked "
        "`readOnly`, and read back as an array of holiday objects.",
        "Written as ids (`CustomForwardRule.holidays: list[str]`), read as objects "
        "(`HolidayRead`); `readOnly` on request items is taken as a copying slip.",
    ),
    Quirk(
        "date_time-format",
        "`GET /login`'s `expires_at` has `format: date_time`, which is no JSON Schema format.",
        "Read as `date-time` (RFC 3339, as its description says) and checked as such.",
        _date_time_format,
    ),
    Quirk(
        "post-login-reply",
        "`POST /login`'s 200 response has no body schema at all.",
        "The client reads any body with `access_token` and a lifetime from `expires_in` or "
        "`expires_at`; the fake answers the shape `GET /login` documents, which the tests require.",
        _post_login_reply,
    ),
    Quirk(
        "oauth-not-in-document",
        "`POST /login/oauth/token` (v22.0/22.1) is on PortSIP's Authentication page but in no "
        "OpenAPI document.",
        "Checked against the form the Authentication page describes (`grant_type`, `client_id`, "
        "`scope=all`, ...), answered like `/auth/refresh_token`.",
        _oauth_operation,
    ),
    Quirk(
        "auth-user-not-in-subset",
        "`GET /auth/user` (role, capabilities; reference/portsip.md §5) is not in the subset.",
        "Checked as `{role, password_force_reset, capabilities}`; `ivrhooks doctor` reads it and "
        "falls back to `GET /login`'s `role`.",
        _auth_user_operation,
    ),
    Quirk(
        "newer-fields",
        "`exclude_list` (v22.3) and `enable_night_mode` (v22.5) postdate the schema.",
        "Kept, and sent only when set, so a PBX that predates them never sees them; the schemas "
        "do not forbid extra properties, so they conform.",
    ),
    Quirk(
        "server-address",
        "`POST /ivr_servers` requires only `name`; the seed text says at least one of `ipv4` and "
        "`ipv6` must be given.",
        "ivrhooks follows the seed text (`IvrServerCreate` refuses a server without an address).",
    ),
    Quirk(
        "login-status-security",
        "`GET /login` is declared with `security: []` although it reports on 'the current "
        "session'.",
        "The client sends its Bearer token (the session has to be named somehow) and takes a 401 "
        "or 404 as 'not offered'.",
    ),
)


def adjusted(document: Document, quirks: tuple[Quirk, ...] = QUIRKS) -> Document:
    """A copy of ``document`` with every quirk's adjustment applied, in order."""
    doc = copy.deepcopy(document)
    for quirk in quirks:
        if quirk.apply is not None:
            quirk.apply(doc)
    return doc
