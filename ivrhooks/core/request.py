"""What the PBX sends to an action URL: the request (:class:`ActionRequest`) and its parsing.

PortSIP (``portsip.md`` §1) sends ``from``, ``to``, ``input``, ``from_name``, ``account_name`` and,
since late 2025, ``session_id``: in the query string for GET, as a JSON object for POST. Every value
is a string. The POST ``Content-Type`` is not documented, so a JSON object is accepted whatever the
header says, and a form body too.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import unquote

from ivrhooks.core.context import CallContext, Failure
from ivrhooks.core.sessions import Session
from ivrhooks.core.types import SESSION_ID_PATTERN, Kind, Presence, session_id_refused
from ivrhooks.errors import (
    InboundError,
    InvalidArgumentError,
    SessionError,
    SessionUnavailableError,
)

__all__ = ["BUDGET_GUARD", "ActionRequest", "Handler", "fields_from_body", "fields_from_query"]

#: How long before the handler's own deadline ``req.budget()`` ends its block: the time to
#: return a decision after ``TimeoutError``, and room for the event loop's timer slack and a
#: pause (a garbage collection, a busy host) between the two timers, which would otherwise both
#: fire at once and hand the call to the fallback. 1 % of the default budget.
BUDGET_GUARD = 0.02

_MAX_FIELDS = 32
_T = TypeVar("_T")


def fields_from_query(query: bytes) -> dict[str, str]:
    """Fields from a GET query string; percent-escapes must decode as UTF-8.

    Exactly ``parse_qsl(keep_blank_values=True, errors="strict", max_num_fields=32)`` on the
    ASCII-decoded query, duplicates refused, but without its per-field ``unquote`` calls and list
    building when a field has nothing to unescape: the PBX's fields are mostly plain digits, and
    this runs on every GET action URL.
    """
    if not query:
        return {}
    try:
        text = query.decode("ascii")
    except UnicodeDecodeError:
        raise InboundError("the query string is not valid: UnicodeDecodeError") from None
    if text.count("&") >= _MAX_FIELDS:  # parse_qsl's max_num_fields counts separators + 1
        raise InboundError("the query string is not valid: ValueError")
    fields: dict[str, str] = {}
    duplicate: str | None = None  # reported after the loop: a bad escape anywhere wins
    for part in text.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        if "%" in part or "+" in part:
            try:
                name = unquote(name.replace("+", " "), errors="strict")
                value = unquote(value.replace("+", " "), errors="strict")
            except UnicodeDecodeError:
                raise InboundError("the query string is not valid: UnicodeDecodeError") from None
        if name in fields and duplicate is None:
            duplicate = name
        fields.setdefault(name, value)
    if duplicate is not None:
        raise InboundError(f"field {duplicate!r} is given more than once")
    return fields


def fields_from_body(body: bytes) -> dict[str, str]:
    """Fields from a POST body: a JSON object whatever the Content-Type says, or a form body.

    Its size is the server's to cap, before the body is read whole (``ServingConfig.max_body``,
    enforced by the endpoint): a second cap here would refuse what the configuration allows."""
    text = body.strip()
    if not text:
        return {}
    if text[:1] in b'{["0123456789-':
        try:
            data = json.loads(text)  # the C parser; duplicate keys are ruled out below
            if not isinstance(data, dict):
                raise InboundError("the body must be a JSON object")
            # Each pair of string key and string value has at least four '"' characters, so
            # exactly four per key, with every value a string, proves no key came twice (a
            # duplicate pair would add four more). Anything else (numbers, escaped quotes, a
            # duplicate) takes the exact, slower parse that sees every pair.
            if text.count(b'"') == 4 * len(data) and all(
                type(value) is str for value in data.values()
            ):
                return data
            data = json.loads(text, object_pairs_hook=_unique)
        except (ValueError, RecursionError):
            raise InboundError("the body is not valid JSON") from None
        return {key: _as_text(key, value) for key, value in data.items()}
    # A form body: application/x-www-form-urlencoded, whatever the header said.
    return fields_from_query(text)


def _as_text(key: str, value: object) -> str:
    # PortSIP sends every value as a string; a number is tolerated, anything else is not a PBX.
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise InboundError(f"field {key!r} must be a string")


def _unique(pairs: list[tuple[str, _T]]) -> dict[str, _T]:
    fields: dict[str, _T] = {}
    for key, value in pairs:
        if key in fields:
            raise InboundError(f"field {key!r} is given more than once")
        fields[key] = value
    return fields


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
    one outside :data:`~ivrhooks.core.types.SESSION_ID_RULE` (``fields`` still holds what was
    sent)."""
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
        if not get("from") or not get("to"):
            missing = [name for name in ("from", "to") if not get(name)]
            raise InboundError(f"missing required field(s): {', '.join(missing)}")
        session_id = get("session_id")
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

    def budget(self, reserve: float = 0.0) -> asyncio.Timeout:
        """Bound a block to this handler's time left, less ``reserve`` seconds::

            try:
                async with req.budget(reserve=0.05):
                    manager = await crm.manager_for(req.caller)
            except TimeoutError:
                return call("0")  # the handler still answers itself

        The block ends a few milliseconds (:data:`BUDGET_GUARD`) before the handler's own
        deadline even with ``reserve=0``: the handler gets ``TimeoutError`` there, with time to
        return its own decision before the framework would hand the call to the fallback."""
        if reserve < 0:
            raise InvalidArgumentError(f"reserve={reserve!r}: give seconds, 0 or more")
        return asyncio.timeout_at(self.context.due.handler - BUDGET_GUARD - reserve)

    @property
    def failure(self) -> Failure | None:
        """Why the fallback runs (``cause``: timeout, error, invalid, no_match, receptionist or
        session; ``exception``: the type name of what the handler raised): set for a fallback,
        ``None`` in a route's handler."""
        return self.context.failure

    async def presence(self, extension: str) -> Presence | None:
        """The extension's presence as PortSIP's extension events last said it: ``"available"``,
        ``"busy"``, ``"ringing"``, ``"away"``, ``"dnd"``, ``"offline"``; or ``None`` when no
        event said it within ``IVRHOOKS_PRESENCE_TTL``, or the store did not answer in time.
        Read from the app's store (shared by replicas with Redis), never from the PBX, so a
        handler can afford it inside the caller's time: ``if await req.presence("2001") ==
        "available": return call("2001")``. Needs the tenant's extension events sent to this
        app (docs/events.md)."""
        return await self.context.presence(str(extension))

    async def first_available(self, extensions: Iterable[str]) -> str | None:
        """The first of ``extensions`` whose presence is ``"available"``, in the order given;
        ``None`` when none is (or none is known): ``target = await
        req.first_available(["2001", "2002"]) or QUEUE``."""
        return await self.context.first_available(str(e) for e in extensions)

    def time_left(self) -> float:
        """Seconds this handler has left to decide: its own share of the answer budget (the
        fallback's reserve after it is not counted). Bound the handler's own calls with it:
        ``async with asyncio.timeout(req.time_left() - 0.02): ...``."""
        return self.context.time_left()


Handler = Callable[[ActionRequest], Any]
"""A route handler: takes the :class:`ActionRequest`, returns (or awaits) a decision."""
