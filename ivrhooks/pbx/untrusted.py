"""``pbx_text``: text the PBX wrote, made fit for a message, a log line or a terminal.

Anything the PBX (or a proxy in front of it) sends back is untrusted: an error's ``message``
and ``detail``, a reason phrase, a role, a capability, an id, a name. Before such text enters an
exception, a finding of ``ivrhooks doctor``, a log line or ``/readyz``, it goes through this one
function, which

1. redacts the client's own secrets (the access and refresh tokens, the password, a static
   token), as sent and as a JSON string or a form field would spell them, and any
   ``Bearer <token>``: a PBX or proxy that echoes the request's ``Authorization`` header in an
   error must not put the token in front of whoever reads the log;
2. escapes control characters as ``\\xNN`` (C0, DEL, C1) or ``\\uNNNN`` (line and paragraph
   separators, bidirectional overrides): a role name carrying ANSI escapes or a bare ``\\r``
   would otherwise clear or rewrite the operator's terminal, or forge a log line;
3. cuts what is left to ``limit`` characters, saying ``…(truncated)``.

The login's username is not a secret and is kept.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

__all__ = ["LINE_LIMIT", "TEXT_LIMIT", "pbx_text"]

#: Characters of one piece of PBX text (a message, a role) kept in a message.
TEXT_LIMIT = 300
#: Characters of a whole line that quotes PBX text among ivrhooks' own words (a plan warning).
LINE_LIMIT = 2000

REDACTED = "[redacted]"
TRUNCATED = "…(truncated)"

# RFC 6750 §2.1's b64token, loosely: what follows "Bearer" up to a space or quote, if it is
# long enough to be a token (so "Bearer token expected" stays readable).
_BEARER = re.compile(r"(?i)(bearer)(\s+|%20|\+)[^\s\"',;]{8,}")
# Secrets shorter than this are not searched for: a 3-character password would redact every
# word containing it, and the PBX's schema wants longer ones anyway.
_MIN_SECRET = 4

# Not Python's isprintable(): that also flags ordinary spaces in other scripts, which are safe.
_BIDI = frozenset(range(0x202A, 0x202F)) | frozenset(range(0x2066, 0x206A))


def _escaped(char: str) -> str:
    code = ord(char)
    if code < 0x20 or 0x7F <= code <= 0x9F:
        return f"\\x{code:02x}"
    if code in (0x2028, 0x2029) or code in _BIDI:
        return f"\\u{code:04x}"
    return char


def _spellings(secret: str) -> set[str]:
    """``secret`` as it may come back: as sent, JSON-escaped, percent-encoded (form bodies)."""
    return {secret, json.dumps(secret)[1:-1], quote(secret, safe=""), quote_plus(secret)}


def pbx_text(
    text: object, *, secrets: Iterable[str | None] = (), limit: int | None = TEXT_LIMIT
) -> str:
    """``text`` (anything; ``str()`` of it) with ``secrets`` redacted, control characters
    escaped, and at most ``limit`` characters (``None``: no cut) plus a truncation mark."""
    value = text if isinstance(text, str) else str(text)
    words = {w for s in secrets if s and len(s) >= _MIN_SECRET for w in _spellings(s)}
    # Longest first: a secret that contains another is redacted whole.
    for word in sorted(words, key=len, reverse=True):
        value = value.replace(word, REDACTED)
    value = _BEARER.sub(rf"\1\2{REDACTED}", value)
    out: list[str] = []
    size = 0
    for char in value:
        piece = _escaped(char)
        if limit is not None and size + len(piece) > limit:
            out.append(TRUNCATED)
            break
        out.append(piece)
        size += len(piece)
    return "".join(out)
