"""RFC 9110 §11 credentials syntax: the scheme, then ``auth-param`` lists.

::

    credentials = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
    auth-param  = token BWS "=" BWS ( token / quoted-string )

Strict on purpose (RFC 9110 §11.2): visible ASCII only (no obs-text), bounded size and count,
duplicate names rejected (RFC 7616 §3.4 gives no rule for them; accepting "the last one" is how
parsers disagree with each other). Every failure is an :class:`AuthHeaderError`, nothing else.
"""

from __future__ import annotations

import re

from ivrhooks.errors import AuthHeaderError

__all__ = [
    "MAX_HEADER_SIZE",
    "AuthHeaderError",
    "check_header_bytes",
    "parse_auth_params",
    "split_scheme",
]

# A Digest reply from httpx or curl is ~350 bytes; 4 KiB leaves room without inviting abuse.
MAX_HEADER_SIZE = 4096
MAX_PARAMS = 32

# RFC 9110 §5.6.2 tchar.
_TCHAR = frozenset(b"!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_WS = frozenset(b" \t")
_ALLOWED = bytes(range(0x20, 0x7F)) + b"\t"

# The fast path for well-formed input: one C-level match says the whole list is well formed,
# one more finds its elements. Anything else goes to the byte-by-byte parser, which gives the
# same answer or names the exact error (tests/auth/test_params.py holds them to each other).
_TCHARS_RE = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_ELEMENT_RE = (
    r"[ \t,]*(" + _TCHARS_RE + r')[ \t]*=[ \t]*(?:"([^"\\]*(?:\\.[^"\\]*)*)"|(' + _TCHARS_RE + r"))"
    r"[ \t]*(?=,|\Z)"
)
_ELEMENTS = re.compile(_ELEMENT_RE)
_WELL_FORMED = re.compile(r"(?>" + _ELEMENT_RE + r")*+[ \t,]*+")  # atomic: no backtracking
_QUOTED_PAIR = re.compile(r"\\(.)")


def check_header_bytes(value: bytes, *, max_size: int = MAX_HEADER_SIZE) -> None:
    """Refuse oversized values and anything but HTAB, SP and visible ASCII (RFC 9110 §5.5)."""
    if len(value) > max_size:
        raise AuthHeaderError(f"authorization: longer than {max_size} bytes")
    # bytes.translate with delete= drops every allowed byte; anything left is forbidden.
    if value.translate(None, _ALLOWED):
        raise AuthHeaderError("authorization: only visible ASCII, space and tab are allowed")


def split_scheme(value: bytes) -> tuple[str, bytes]:
    """Split ``credentials`` into the lower-cased scheme and the rest (leading spaces removed)."""
    check_header_bytes(value)
    value = value.strip(b" \t")
    scheme, _, rest = value.partition(b" ")
    if not scheme or any(c not in _TCHAR for c in scheme):
        raise AuthHeaderError("authorization: missing or invalid scheme")
    return scheme.decode("ascii").lower(), rest.lstrip(b" ")


def _skip_ws(data: bytes, i: int) -> int:
    n = len(data)
    while i < n and data[i] in _WS:
        i += 1
    return i


def _token(data: bytes, i: int) -> tuple[str, int]:
    start = i
    n = len(data)
    while i < n and data[i] in _TCHAR:
        i += 1
    if i == start:
        raise AuthHeaderError(f"authorization: expected a token at offset {start}")
    return data[start:i].decode("ascii"), i


def _quoted(data: bytes, i: int) -> tuple[str, int]:
    # data[i] is the opening DQUOTE; RFC 9110 §5.6.4 quoted-string with quoted-pair.
    out = bytearray()
    i += 1
    n = len(data)
    while i < n:
        c = data[i]
        if c == 0x22:
            return out.decode("ascii"), i + 1
        if c == 0x5C:
            if i + 1 >= n:
                break
            out.append(data[i + 1])
            i += 2
            continue
        out.append(c)
        i += 1
    raise AuthHeaderError("authorization: unbalanced quotes")


def parse_auth_params(data: bytes | str, *, max_params: int = MAX_PARAMS) -> dict[str, str]:
    """Parse ``#auth-param`` into ``{lower-cased name: value}``; raise :class:`AuthHeaderError`.

    Empty list elements are ignored (RFC 9110 §5.6.1 asks recipients to accept them).
    """
    if isinstance(data, str):
        try:
            data = data.encode("ascii")
        except UnicodeEncodeError:
            raise AuthHeaderError("authorization: only visible ASCII is allowed") from None
    check_header_bytes(data)
    text = data.decode("ascii")  # visible ASCII, checked above
    if _WELL_FORMED.fullmatch(text):
        found = _ELEMENTS.findall(text)
        if len(found) <= max_params:
            # An unquoted value is a non-empty token; otherwise the value was quoted.
            params = {
                name.lower(): token
                or (_QUOTED_PAIR.sub(r"\1", quoted) if "\\" in quoted else quoted)
                for name, quoted, token in found
            }
            if len(params) == len(found):  # else a duplicate: the strict parser names it
                return params
    return _parse_strict(data, max_params)


def _parse_strict(data: bytes, max_params: int) -> dict[str, str]:
    params: dict[str, str] = {}
    i, n = 0, len(data)
    while True:
        # Any run of OWS "," OWS between (or around) elements.
        while i < n and (data[i] in _WS or data[i] == 0x2C):
            i += 1
        if i >= n:
            break
        name, i = _token(data, i)
        i = _skip_ws(data, i)
        if i >= n or data[i] != 0x3D:
            raise AuthHeaderError(f"authorization: parameter {name!r} has no '='")
        i = _skip_ws(data, i + 1)
        if i < n and data[i] == 0x22:
            value, i = _quoted(data, i)
        else:
            value, i = _token(data, i)
        key = name.lower()
        if key in params:
            raise AuthHeaderError(f"authorization: duplicate parameter {key!r}")
        if len(params) >= max_params:
            raise AuthHeaderError(f"authorization: more than {max_params} parameters")
        params[key] = value
        i = _skip_ws(data, i)
        if i < n and data[i] != 0x2C:
            raise AuthHeaderError(f"authorization: expected ',' after parameter {key!r}")
    return params
