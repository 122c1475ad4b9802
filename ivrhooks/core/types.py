"""The vocabulary of ivrhooks: the words and rules every other module derives from.

PortSIP's own field rules (reference/portsip.md §1, §3, §4) are written here once; modules that
validate a receptionist's extension number, an action-URL credential or a route's scheme import
them instead of spelling the rule again.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, Final, Literal, get_args

from ivrhooks.core.context import CallContext
from ivrhooks.core.sessions import Session
from ivrhooks.errors import InboundError, SessionError, SessionUnavailableError

__all__ = [
    "ACTIONS",
    "AUTH_MODES",
    "CREDENTIAL_PATTERN",
    "CREDENTIAL_RE",
    "DEFAULT_PBX_RATE",
    "EXTENSION_PATTERN",
    "EXTENSION_RE",
    "EXTENSION_RULE",
    "FALLBACK_CAUSES",
    "KINDS",
    "MAX_ACTION_URL",
    "MAX_MASK",
    "MAX_NAME",
    "MAX_PBX_RATE",
    "METHODS",
    "SCHEMES",
    "Action",
    "ActionRequest",
    "FallbackCause",
    "Handler",
    "Kind",
    "Method",
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

#: PBX REST requests a second by default: 2,400 a minute, under half of PortSIP's smallest
#: documented limit (5,000 a minute), leaving the rest to the PBX's other integrations.
DEFAULT_PBX_RATE: Final = 40
#: PortSIP's largest documented limit is 10,000 a minute (~167/s); more is a typo.
MAX_PBX_RATE: Final = 1000

#: A call's ``session_id``, as ivrhooks accepts it. PortSIP documents it only as the "unique id
#: of the call" (reference/portsip.md §1; its examples are decimal, ``12345678`` up to snowflake
#: ids): this length and alphabet are ivrhooks' own bound, not PortSIP's, wide enough for any
#: id a PBX makes and small enough that an id is not kilobytes in every store key and log line.
#: Anything else is no session_id at all (``req.session()`` says why).
MAX_SESSION_ID: Final = 128
SESSION_ID_RE: Final = f"[A-Za-z0-9._:-]{{1,{MAX_SESSION_ID}}}"
SESSION_ID_PATTERN: Final = re.compile(SESSION_ID_RE)
SESSION_ID_RULE: Final = f"1 to {MAX_SESSION_ID} characters of A-Z, a-z, 0-9 and . _ : -"

MAX_NAME: Final = 64  # action URL ``name``
MAX_MASK: Final = 255  # ``dtmf_mask`` / ``caller_mask``
# The seed says url <= 1024, PortSIP's published OpenAPI says <= 128: keep to the stricter one.
MAX_ACTION_URL: Final = 128


def is_extension(value: object) -> bool:
    """Whether ``value`` is a receptionist extension number (a string of 3 to 64 digits)."""
    return isinstance(value, str) and EXTENSION_PATTERN.fullmatch(value) is not None


@dataclass(slots=True)
class ActionRequest:
    """One call event from the PBX: who calls, which receptionist, what was keyed."""

    caller: str
    """The caller's number (``from``)."""
    to: str
    """The receptionist's extension number (``to``)."""
    digits: str
    """The DTMF digits the caller keyed (``input``); empty for a caller-mask event."""
    caller_name: str
    """The caller's display name (``from_name``); may be empty."""
    receptionist: str
    """The receptionist's name (``account_name``)."""
    session_id: str | None
    """The call's unique id; ``None`` when the PBX does not send it (older builds), or sends
    one outside :data:`SESSION_ID_RULE` (``fields`` still holds what was sent)."""
    kind: Kind
    """``"DTMF"`` or ``"CALLER"``: which kind of action URL fired."""
    method: str
    """``"GET"`` or ``"POST"``."""
    fields: dict[str, str] = field(repr=False)
    """Every field as the PBX sent it, unknown ones included."""
    route: str = ""
    """The name of the route that received the request."""
    context: CallContext = field(default_factory=CallContext, repr=False, compare=False)
    """This request's deadline and session (:mod:`ivrhooks.core.context`), made by the server."""

    def session(self) -> Coroutine[Any, Any, Session]:
        """This call's session: a mapping of JSON values shared by every request of the call,
        on any receptionist and replica (see :mod:`ivrhooks.core.sessions`). Changes are saved
        when the handler returns a decision. Raises :class:`SessionUnavailableError` when the
        PBX sent no ``session_id`` (the request is then answered by the fallback).

        For ``async def`` handlers only: ``session = await req.session()``. A plain ``def``
        handler runs in a worker thread, away from the event loop the store is used from, so
        there ``req.session()`` raises :class:`SessionError` at once (the fallback answers,
        with one log line). Write a handler that needs the session as ``async def``, and run
        its blocking calls with ``await asyncio.to_thread(blocking, ...)``."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            raise SessionError(
                "req.session() needs an async handler: a plain `def` handler runs in a worker "
                "thread, where the call's session cannot be loaded; declare it `async def`, "
                "write `session = await req.session()`, and run blocking calls with "
                "`await asyncio.to_thread(...)`"
            ) from None
        if self.session_id is None and self.fields.get("session_id"):
            raise SessionUnavailableError(session_id_refused(self.fields["session_id"]))
        return self.context.session(self.session_id, self.route)

    @classmethod
    def from_fields(
        cls,
        fields: dict[str, str],
        *,
        kind: Kind,
        method: str,
        route: str = "",
        context: CallContext | None = None,
    ) -> ActionRequest:
        """Build a request from parsed fields; ``from`` and ``to`` are required."""
        get = fields.get
        session_id = get("session_id")
        if not get("from") or not get("to"):
            missing = [name for name in ("from", "to") if not get(name)]
            raise InboundError(f"missing required field(s): {', '.join(missing)}")
        return cls(
            caller=fields["from"],
            to=fields["to"],
            digits=get("input", ""),
            caller_name=get("from_name", ""),
            receptionist=get("account_name", ""),
            # Not PortSIP-shaped: no session (the handler still runs; req.session() says why).
            session_id=session_id
            if session_id and SESSION_ID_PATTERN.fullmatch(session_id)
            else None,
            kind=kind,
            method=method,
            fields=fields,
            route=route,
            context=context if context is not None else CallContext(),
        )

    def time_left(self) -> float:
        """Seconds this handler has left to decide: its own share of the answer budget (the
        fallback's reserve after it is not counted). Bound the handler's own calls with it:
        ``async with asyncio.timeout(req.time_left() - 0.02): ...``."""
        return self.context.time_left()


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


Handler = Callable[[ActionRequest], Any]
"""A route handler: takes the :class:`ActionRequest`, returns (or awaits) a decision."""
