"""The vocabulary of ivrhooks: the words and rules every other module derives from.

PortSIP's own field rules (reference/portsip.md §1, §3, §4) are written here once; modules that
validate a receptionist's extension number, an action-URL credential or a route's scheme import
them instead of spelling the rule again.
"""

from __future__ import annotations

import re
from typing import Final, Literal, get_args

__all__ = [
    "ACTIONS",
    "AUTH_MODES",
    "CREDENTIAL_PATTERN",
    "CREDENTIAL_RE",
    "EXTENSION_PATTERN",
    "EXTENSION_RE",
    "EXTENSION_RULE",
    "FALLBACK_CAUSES",
    "KINDS",
    "MAX_ACTION_URL",
    "MAX_MASK",
    "MAX_NAME",
    "METHODS",
    "SCHEMES",
    "Action",
    "FallbackCause",
    "Kind",
    "Method",
    "Presence",
    "Scheme",
    "is_extension",
]

Kind = Literal["DTMF", "CALLER"]
"""Which kind of action URL fired: DTMF input, or the caller's number on arrival."""

Scheme = Literal["basic", "digest", "bearer", "none"]
"""How an action URL authenticates the PBX (``none`` only with an explicit opt-in)."""

Method = Literal["GET", "POST"]
"""The HTTP method an action URL is registered with (PortSIP sends one of these two)."""

Action = Literal["call", "hangup", "repeat"]
"""What a decision tells the PBX to do (reference/portsip.md §2)."""

Presence = Literal["available", "busy", "ringing", "away", "dnd", "offline"]
"""Whether an extension can take a call now, in one vocabulary (``req.presence()``), whichever
of PortSIP's three vocabularies the PBX sent."""

FallbackCause = Literal["timeout", "error", "invalid", "no_match", "receptionist", "session"]
"""Why a request was answered by the fallback instead of its route's handler (``session``: the
call's session could not be used: no ``session_id`` from the PBX, or over its size cap)."""


KINDS: Final[tuple[Kind, ...]] = get_args(Kind)
SCHEMES: Final[tuple[Scheme, ...]] = get_args(Scheme)
METHODS: Final[tuple[Method, ...]] = get_args(Method)
ACTIONS: Final[tuple[Action, ...]] = get_args(Action)
FALLBACK_CAUSES: Final[tuple[FallbackCause, ...]] = get_args(FallbackCause)

#: The PBX's ``auth`` value for each scheme (PortSIP action URL schema).
AUTH_MODES: Final[dict[Scheme, str]] = {
    "basic": "BASIC",
    "digest": "DIGEST",
    "bearer": "BEARER",
    "none": "DISABLE",
}

#: A receptionist's ``extension_number``: 3 to 64 digits (PortSIP ``/ivrs`` schema).
EXTENSION_RE: Final = "[0-9]{3,64}"
EXTENSION_PATTERN: Final = re.compile(EXTENSION_RE)
EXTENSION_RULE: Final = "3 to 64 digits"

#: An action URL's ``username`` / ``password``: what the PBX stores (reference/portsip.md §1).
CREDENTIAL_RE: Final = "[a-z0-9]{6,64}"
CREDENTIAL_PATTERN: Final = re.compile(CREDENTIAL_RE)

MAX_NAME: Final = 64  # action URL ``name``
MAX_MASK: Final = 255  # ``dtmf_mask`` / ``caller_mask``
# The seed says url <= 1024, PortSIP's published OpenAPI says <= 128: keep to the stricter one.
MAX_ACTION_URL: Final = 128


#: A call's ``session_id``, as ivrhooks accepts it. PortSIP documents it only as the "unique id
#: of the call" (reference/portsip.md §1; its examples are decimal, ``12345678`` up to snowflake
#: ids): this length and alphabet are ivrhooks' own bound, not PortSIP's, wide enough for any
#: id a PBX makes and small enough that an id is not kilobytes in every store key and log line.
#: Anything else is no session_id at all (``req.session()`` says why).
MAX_SESSION_ID: Final = 128
SESSION_ID_RE: Final = f"[A-Za-z0-9._:-]{{1,{MAX_SESSION_ID}}}"
SESSION_ID_PATTERN: Final = re.compile(SESSION_ID_RE)
SESSION_ID_RULE: Final = f"1 to {MAX_SESSION_ID} characters of A-Z, a-z, 0-9 and . _ : -"


def is_extension(value: object) -> bool:
    """Whether ``value`` is a receptionist extension number (a string of 3 to 64 digits)."""
    return isinstance(value, str) and EXTENSION_PATTERN.fullmatch(value) is not None


def session_id_refused(raw: str) -> str:
    """Why a ``session_id`` the PBX sent was refused, without repeating it (it may be 8 KiB)."""
    why = (
        f"{len(raw)} characters"
        if len(raw) > MAX_SESSION_ID
        else "characters outside A-Z, a-z, 0-9 and . _ : -"
    )
    return (
        f"the PBX's session_id was refused ({why}; ivrhooks accepts {SESSION_ID_RULE}), so "
        "this request has no session"
    )
