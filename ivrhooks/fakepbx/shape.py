"""How one PBX build sends an action-URL request: its header set, ``Content-Type``, body
encoding and field order, as ``ivrhooks probe`` recorded them (:mod:`.behaviour` loads them).

PortSIP documents the fields and that POST sends JSON (reference/portsip.md §1), not the
``Content-Type``, the headers its HTTP client adds, nor the order of the fields. A build that
sends ``text/plain``, or puts ``session_id`` last, is what a receiver's parser meets; so the
fake PBX, given a recorded shape, sends the same way instead of as httpx does by default.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlencode

import httpx

__all__ = ["ENCODINGS", "PER_REQUEST_HEADERS", "Encoding", "RequestShape"]

Encoding = Literal["json", "form", "query"]
ENCODINGS: tuple[Encoding, ...] = ("json", "form", "query")

#: Headers whose value is made for each request (or carries a secret): never part of a shape.
PER_REQUEST_HEADERS = frozenset(
    {
        "host",
        "content-length",
        "authorization",
        "proxy-authorization",
        "cookie",
        "transfer-encoding",
    }
)


@dataclass(frozen=True)
class RequestShape:
    """How a build sends one method's requests.

    ``headers``: the build's own headers, in the order seen (names lower-cased), without the
    per-request ones, ``Content-Type`` and those the action URL's ``headers`` setting added;
    ``fields``: the field names in the order sent (a field the fake knows but the build did not
    send is left out; one the build sends that the fake does not know is sent empty);
    ``content_type``: POST's header as sent (``None``: none was sent); ``encoding``: POST's body
    (``json`` or ``form``), or ``query`` for GET; ``separators``: how the JSON was spaced.
    """

    method: Literal["GET", "POST"]
    headers: tuple[tuple[str, str], ...] = ()
    fields: tuple[str, ...] = ()
    content_type: str | None = None
    encoding: Encoding = "json"
    separators: tuple[str, str] = (",", ":")

    def ordered(self, fields: dict[str, str]) -> list[tuple[str, str]]:
        """``fields`` in the recorded order (the fake's own order when none was recorded)."""
        if not self.fields:
            return list(fields.items())
        return [(name, fields.get(name, "")) for name in self.fields]

    def prepare(
        self, client: httpx.AsyncClient, fields: dict[str, str], kwargs: dict[str, Any]
    ) -> None:
        """Make ``client`` and the request's ``kwargs`` send as the recorded build does: only
        its headers (httpx's own defaults, such as its ``User-Agent``, are dropped), then the
        action URL's ``headers`` setting, then the body or query in its order and encoding."""
        for name in list(client.headers.keys()):
            del client.headers[name]
        for name, value in self.headers:
            client.headers[name] = value
        headers: dict[str, str] = dict(kwargs.get("headers") or {})
        pairs = self.ordered(fields)
        if self.encoding == "query":
            kwargs["params"] = pairs
        else:
            if self.encoding == "form":
                kwargs["content"] = urlencode(pairs).encode()
            else:
                text = json.dumps(dict(pairs), separators=self.separators, ensure_ascii=False)
                kwargs["content"] = text.encode()
            if self.content_type is not None:
                headers["Content-Type"] = self.content_type
        kwargs["headers"] = headers

    def to_json(self) -> dict[str, Any]:
        return {
            "headers": [list(pair) for pair in self.headers],
            "fields": list(self.fields),
            "content_type": self.content_type,
            "encoding": self.encoding,
            "separators": list(self.separators),
        }


def header_pairs(value: Any, where: str) -> tuple[tuple[str, str], ...]:
    """``[[name, value], ...]`` read strictly; a :class:`ValueError` names ``where``."""
    if not isinstance(value, list):
        raise ValueError(f"{where}: a list of [name, value] pairs")
    pairs = []
    for item in value:
        if (
            not isinstance(item, list)
            or len(item) != 2
            or not all(isinstance(part, str) for part in item)
        ):
            raise ValueError(f"{where}: each header is [name, value], two strings")
        name = item[0].strip().lower()
        if not name or name in PER_REQUEST_HEADERS or name == "content-type":
            raise ValueError(f"{where}: {item[0]!r} is not a header a shape can carry")
        pairs.append((name, item[1]))
    return tuple(pairs)


def read_shape(method: str, data: Any, where: str) -> RequestShape:
    """One method's shape from its JSON; a :class:`ValueError` names the bad field."""
    if method not in ("GET", "POST"):
        raise ValueError(f"{where}: the method is GET or POST, not {method!r}")
    if not isinstance(data, dict):
        raise ValueError(f"{where}: an object")
    unknown = set(data) - {"headers", "fields", "content_type", "encoding", "separators"}
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    fields = data.get("fields", [])
    if not isinstance(fields, list) or not all(isinstance(f, str) and f for f in fields):
        raise ValueError(f"{where}.fields: a list of field names")
    content_type = data.get("content_type")
    if content_type is not None and not isinstance(content_type, str):
        raise ValueError(f"{where}.content_type: a string or null")
    encoding = data.get("encoding", "query" if method == "GET" else "json")
    allowed: Sequence[str] = ("query",) if method == "GET" else ("json", "form")
    if encoding not in allowed:
        raise ValueError(f"{where}.encoding: one of {', '.join(allowed)} for {method}")
    separators = data.get("separators", [",", ":"])
    if (
        not isinstance(separators, list)
        or len(separators) != 2
        or not all(isinstance(s, str) for s in separators)
        or (separators[0].strip(), separators[1].strip()) != (",", ":")
    ):
        raise ValueError(f'{where}.separators: two strings, e.g. [",", ":"]')
    return RequestShape(
        method="GET" if method == "GET" else "POST",
        headers=header_pairs(data.get("headers", []), f"{where}.headers"),
        fields=tuple(fields),
        content_type=content_type,
        encoding=encoding,
        separators=(separators[0], separators[1]),
    )
