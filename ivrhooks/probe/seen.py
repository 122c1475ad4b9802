"""What the probe records of one request the PBX sent: everything but secrets and full numbers.

Kept: the method, the path, every header (lower-cased, as the ASGI server hands them over) in
the order sent, the body, the fields in their order, the source address and when it arrived.
Not kept: the value of ``Authorization`` (only its scheme and, for Digest, the parameters' names,
``qop``, ``algorithm`` and ``nc``: see :mod:`.auth`), cookies, and the caller's number and name
in full (masked as ivrhooks' logs mask them, in the fields, the query and the body alike).
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any, Literal
from urllib.parse import parse_qsl, quote_plus, unquote_plus

from ivrhooks.observe.logs import mask_number

__all__ = [
    "MAX_BODY",
    "AuthSeen",
    "Kind",
    "Seen",
    "masked_query",
    "read_fields",
    "sanitise_headers",
]

#: Bodies are recorded up to this many bytes: an action-URL body is a few hundred.
MAX_BODY = 16 * 1024

#: Fields that carry a person's number or name: masked wherever they appear.
PERSONAL = ("from", "from_name")

Encoding = Literal["json", "form", "query", "other", "none"]

Kind = Literal[
    "first",  # the step's first request: it gets the step's deliberate answer
    "retry",  # the same call and input again: the PBX resent the request
    "prompt",  # the same call, other keys: the caller keyed at a prompt played again
    "new_session",  # another session_id than the step's first request
    "arrival",  # a CALLER action URL, fired as the call arrived
    "challenged",  # no credentials: answered 401 with a challenge
    "refused",  # credentials that did not check out: answered 401
    "unexpected",  # outside any step (before the first, after the last)
    "other_path",  # a path the probe did not register: answered 404
]

_SECRET_HEADERS = ("authorization", "proxy-authorization", "cookie")


@dataclass
class AuthSeen:
    """The credentials a request carried, without their secret parts."""

    scheme: str | None = None
    """As sent (``Digest``, ``Basic``, ``Bearer``); ``None``: no ``Authorization`` header."""
    params: list[str] = field(default_factory=list)
    """Digest: the parameters' names in the order sent."""
    algorithm: str | None = None
    qop: str | None = None
    nc: str | None = None
    nonce: Literal["issued", "reused", "unknown"] | None = None
    """Digest: a nonce the probe issued, one used before (with a higher ``nc``), or not ours."""
    uri_matches: bool | None = None
    """Digest: ``uri`` is the request-target byte for byte (ivrhooks refuses it otherwise)."""
    verified: bool | None = None
    """The credentials check out against what the probe registered."""


@dataclass
class Seen:
    """One request, as the probe received it and answered it."""

    index: int
    at: float
    """Seconds since the probe began serving."""
    method: str
    path: str
    query: str
    headers: list[tuple[str, str]]
    content_type: str | None
    body: str
    encoding: Encoding
    fields: dict[str, str]
    field_order: list[str]
    strings: bool
    """Every field's value is a JSON string (PortSIP: "Every value is a string")."""
    source: str | None
    port: int | None
    route: Literal["dtmf", "caller", "other"] = "other"
    auth: AuthSeen | None = None
    gap: float | None = None
    """Seconds since the request before it in the same step."""
    step: str | None = None
    kind: Kind = "unexpected"
    answer: str = ""
    answered_after: float | None = None
    closed_early: bool | None = None
    """The PBX closed the connection before the answer was sent (a late step)."""

    @property
    def session_id(self) -> str | None:
        return self.fields.get("session_id") or None

    @property
    def input(self) -> str | None:
        return self.fields.get("input")

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["headers"] = [list(pair) for pair in self.headers]
        return data


def _masked_json(text: str, values: dict[str, Any]) -> str:
    # The quoted value as a whole: digits of a session_id that happen to equal the caller's
    # number stay as they were.
    for name in PERSONAL:
        value = values.get(name)
        if isinstance(value, str) and value:
            text = text.replace(json.dumps(value), json.dumps(mask_number(value)))
            text = text.replace(
                json.dumps(value, ensure_ascii=False), json.dumps(mask_number(value))
            )
    return text


_PAIR = re.compile(r"(^|&)(from|from_name)=([^&]*)")


def masked_query(query: str) -> str:
    """A query string or form body with the caller's number and name masked."""

    def mask(match: re.Match[str]) -> str:
        value = unquote_plus(match.group(3))
        return f"{match.group(1)}{match.group(2)}={quote_plus(mask_number(value) or '', safe='*')}"

    return _PAIR.sub(mask, query)


def read_fields(
    method: str, query: str, content_type: str | None, body: bytes
) -> tuple[dict[str, str], list[str], Encoding, bool, str]:
    """``(fields masked, their order, encoding, all strings, the body masked)``.

    GET: the query string; POST: JSON whatever the ``Content-Type`` says, else a form (what
    ivrhooks itself accepts, reference/portsip.md §1)."""
    raw: dict[str, Any] = {}
    text = body[:MAX_BODY].decode("utf-8", "replace")
    encoding: Encoding
    if method == "GET" or not body:
        raw = dict(parse_qsl(query, keep_blank_values=True))
        encoding = "query" if method == "GET" else "none"
    else:
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            raw, encoding = parsed, "json"
        elif "=" in text:
            raw, encoding = dict(parse_qsl(text, keep_blank_values=True)), "form"
        else:
            encoding = "other"
    strings = all(isinstance(v, str) for v in raw.values())
    values = {k: v if isinstance(v, str) else json.dumps(v) for k, v in raw.items()}
    shown = {k: (mask_number(v) or "") if k in PERSONAL else v for k, v in values.items()}
    masked = _masked_json(text, raw) if encoding == "json" else masked_query(text)
    return shown, list(values), encoding, strings, masked


def sanitise_headers(headers: list[tuple[bytes, bytes]], auth: str | None) -> list[tuple[str, str]]:
    """The headers as sent, ``Authorization``'s value replaced by ``auth`` (its description),
    cookies dropped."""
    out = []
    for name_b, value_b in headers:
        name = name_b.decode("latin-1").lower()
        value = value_b.decode("latin-1")
        if name in _SECRET_HEADERS:
            value = (auth or "<removed>") if name == "authorization" else "<removed>"
        out.append((name, value))
    return out
