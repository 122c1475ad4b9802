"""Each quirk of the published document is real, handled, and listed in docs/rest-api.md.

For every adjustment in ``quirks.py``: one exchange the unadjusted document judges wrong (or
lets through) and the adjusted one judges right. For the quirks that need no adjustment: the
document says what the quirk says it says.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from ivrhooks.pbx.generations import OAUTH_CLIENT_ID
from tests.conformance.capture import Exchange
from tests.conformance.quirks import QUIRKS
from tests.conformance.spec import DOCUMENT, Spec, load

ROOT = Path(__file__).resolve().parents[2]
RAW = json.loads(DOCUMENT.read_text())
PUBLISHED = load(quirks=())
ADJUSTED = load()
ERROR = {"errors": [{"code": "UNKNOWN", "message": "not found", "detail": None}]}
AUTH = {"authorization": "Bearer t", "content-type": "application/json"}
TOKEN_REPLY = {"access_token": "a", "expires_in": 3600, "refresh_token": "r", "token_type": "x"}


def test_the_document_is_the_published_one() -> None:
    digest = hashlib.sha256(DOCUMENT.read_bytes()).hexdigest()
    assert digest in (DOCUMENT.parent / "ORIGIN.md").read_text()
    assert len(RAW["paths"]) == 14  # 11 paths of the 17 endpoints, 3 token paths


def test_every_quirk_is_listed_in_the_docs() -> None:
    docs = (ROOT / "docs" / "rest-api.md").read_text()
    section = docs.split("## Where the published document is wrong", 1)[1]
    for quirk in QUIRKS:
        assert f"`{quirk.id}`" in section, quirk.id
    assert len({q.id for q in QUIRKS}) == len(QUIRKS)


Check = tuple[str, Exchange]  # which half to check ("request", "response", "both"), and what


def _request(method: str, path: str, body: Any = None) -> Check:
    content = b"" if body is None else json.dumps(body).encode()
    return "request", Exchange("client", method, "/api" + path, [], dict(AUTH), content)


def _response(method: str, path: str, status: int, body: Any) -> Check:
    content = json.dumps(body).encode()
    headers = {"content-type": "application/json"}
    exchange = Exchange(
        "fake", method, "/api" + path, [], dict(AUTH), b"", status, headers, content
    )
    return "response", exchange


def _form(path: str, form: dict[str, str]) -> Check:
    headers = {"content-type": "application/x-www-form-urlencoded"}
    exchange = Exchange(
        "client",
        "POST",
        "/api" + path,
        [],
        headers,
        urlencode(form).encode(),
        200,
        {"content-type": "application/json"},
        json.dumps(TOKEN_REPLY).encode(),
    )
    return "both", exchange


def _problems(spec: Spec, check: Check) -> list[str]:
    part, exchange = check
    if part == "request":
        return spec.request_violations(exchange)
    if part == "response":
        return spec.response_violations(exchange)
    return spec.violations(exchange)


URL = "/ivrs/i/action_urls"
IVR = {"name": "Main", "pin": "582046"}
OAUTH = {
    "grant_type": "password",
    "username": "admin",
    "password": "pw",
    "scope": "all",
    "client_id": OAUTH_CLIENT_ID,
}
TOKEN_REPLY = {
    "access_token": "a",
    "expires_in": 3600,
    "refresh_token": "r",
    "token_type": "Bearer",
}

# (quirk id, an exchange, does the published document accept it?, does the adjusted one?)
ADJUSTMENTS: list[tuple[str, Check, bool, bool]] = [
    ("url-pattern", _request("POST", URL, {"url": "http://127.0.0.1:51234/hooks/x"}), False, True),
    (
        "unanchored-patterns",
        _request("POST", "/ivrs", {**IVR, "extension_number": "ab8000"}),
        True,
        False,
    ),
    ("sign-in-one-of", _response("POST", "/auth/sign_in", 200, TOKEN_REPLY), False, True),
    (
        "sign-in-one-of",
        _response("POST", "/auth/sign_in", 200, {"two_factor_enabled": True}),
        False,
        True,
    ),
    ("sign-in-one-of", _response("POST", "/auth/sign_in", 200, {}), False, False),
    ("errors-any-4xx", _response("POST", "/ivrs/i/destroy", 404, ERROR), False, True),
    ("errors-any-4xx", _response("POST", "/ivr_servers/i/destroy", 401, ERROR), False, True),
    ("error-body", _response("POST", "/ivr_servers/i/destroy", 404, ERROR), False, True),
    ("error-body", _response("GET", "/ivrs", 400, {"errors": []}), False, False),
    ("nulls-for-blanks", _response("GET", URL + "/u", 200, {"id": "u", "auth": None}), False, True),
    ("date_time-format", _response("GET", "/login", 200, {"expires_at": "soon"}), True, False),
    (
        "date_time-format",
        _response("GET", "/login", 200, {"expires_at": "2030-01-01T00:00:00Z"}),
        True,
        True,
    ),
    (
        "post-login-reply",
        _response("POST", "/login", 200, {"access_token": "a", "expires_in": 1800}),
        False,
        True,
    ),
    ("post-login-reply", _response("POST", "/login", 200, {"role": "Admin"}), False, False),
    ("oauth-not-in-document", _form("/login/oauth/token", OAUTH), False, True),
    (
        "oauth-not-in-document",
        _form("/login/oauth/token", {**OAUTH, "client_id": "someone"}),
        False,
        False,
    ),
    (
        "auth-user-not-in-subset",
        _response("GET", "/auth/user", 200, {"role": "Admin"}),
        False,
        True,
    ),
]


@pytest.mark.parametrize(
    ("quirk", "check", "published", "adjusted"),
    [pytest.param(*row, id=f"{row[0]}-{i}") for i, row in enumerate(ADJUSTMENTS)],
)
def test_each_adjustment_is_needed(
    quirk: str, check: Check, published: bool, adjusted: bool
) -> None:
    assert (_problems(PUBLISHED, check) == []) is published, _problems(PUBLISHED, check)
    assert (_problems(ADJUSTED, check) == []) is adjusted, _problems(ADJUSTED, check)
    # And it is this quirk's adjustment that makes the difference.
    if published != adjusted:
        without = load(tuple(q for q in QUIRKS if q.id != quirk))
        assert (_problems(without, check) == []) is published


def test_every_adjustment_has_a_case() -> None:
    adjusting = {q.id for q in QUIRKS if q.apply is not None}
    assert adjusting == {row[0] for row in ADJUSTMENTS}


def _properties(path: str, method: str) -> dict[str, Any]:
    schema = RAW["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]
    return dict(schema["properties"])


def _said_by_the_document(quirk: str) -> bool:
    paths = RAW["paths"]
    if quirk == "skip-1-based":
        skip = next(p for p in paths["/ivrs"]["get"]["parameters"] if p["name"] == "skip")
        prose = "Note that skip numbering is 1-based" in RAW["info"]["description"]
        return prose and skip["schema"]["minimum"] == 0 and skip["schema"]["default"] == 0
    if quirk == "holidays-ids-and-objects":
        written = _properties("/ivrs", "post")["custom_forward_rules"]["items"]["properties"]
        get = paths["/ivrs/{id}"]["get"]["responses"]["200"]["content"]["application/json"]
        read = get["schema"]["properties"]["custom_forward_rules"]["items"]["properties"]
        return (
            written["holidays"]["items"]["readOnly"] is True
            and read["holidays"]["items"]["type"] == "object"
        )
    if quirk == "newer-fields":
        fields = set(_properties("/ivrs", "post")) | set(_properties("/ivrs/{id}", "post"))
        return not fields & {"exclude_list", "enable_night_mode"}
    if quirk == "server-address":
        create = paths["/ivr_servers"]["post"]["requestBody"]["content"]["application/json"]
        return create["schema"]["required"] == ["name"]
    if quirk == "login-status-security":
        return paths["/login"]["get"]["security"] == []
    raise AssertionError(f"no check for {quirk}")


@pytest.mark.parametrize("quirk", [q.id for q in QUIRKS if q.apply is None])
def test_the_document_says_what_each_quirk_says(quirk: str) -> None:
    assert _said_by_the_document(quirk)


def test_the_checker_finds_a_plain_mistake(spec: Spec) -> None:
    # Not every exchange passes: a wrong type, an undeclared parameter, a missing token.
    wrong = _request("POST", URL, {"url": "http://h/x", "enabled": "yes"})
    assert any("enabled" in p for p in _problems(spec, wrong))
    listed = Exchange("client", "GET", "/api/ivrs", [("count", "true")], AUTH, b"")
    assert any("'count' is not declared" in p for p in spec.request_violations(listed))
    bare = Exchange("client", "GET", "/api/ivrs", [], {}, b"")
    assert any("Bearer" in p for p in spec.request_violations(bare))
    empty = Exchange("fake", "GET", "/api/ivrs/i", [], AUTH, b"", 200, {}, b"")
    assert any("content type" in p for p in spec.response_violations(empty))
