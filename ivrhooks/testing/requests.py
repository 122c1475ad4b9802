"""``request(...)``: an :class:`~ivrhooks.ActionRequest` for calling a handler directly.

::

    decision = await account(request(digits="31234"), crm=FakeCRM())

Every field has a default a PBX could send (receptionist ``8000``, caller ``101``, a fresh
session id); the request has the server's default answer budget, counted from its first use,
and a session kept in this process's memory, so ``req.time_left()``, ``req.budget()`` and
``await req.session()`` work as they do under the server. Nothing saves the session after the
handler returns (the server does that); read it from the request to check what was written.
"""

from __future__ import annotations

import secrets

from ivrhooks.conf.config import ServingConfig
from ivrhooks.core.context import CallContext
from ivrhooks.core.request import ActionRequest
from ivrhooks.core.sessions import SessionBroker
from ivrhooks.core.types import Kind
from ivrhooks.store import MemoryStore

__all__ = ["request"]


def request(
    *,
    to: str = "8000",
    caller: str = "101",
    digits: str = "",
    caller_name: str = "",
    receptionist: str = "",
    session_id: str | None = None,
    kind: Kind | None = None,
    method: str = "POST",
    route: str = "",
    fields: dict[str, str] | None = None,
) -> ActionRequest:
    """A request as the PBX would send it; ``kind`` is ``DTMF`` when ``digits`` are given, else
    ``CALLER``. ``fields`` adds (or overrides) raw fields."""
    sent = {
        "from": caller,
        "to": to,
        "input": digits,
        "from_name": caller_name,
        "account_name": receptionist or f"Receptionist {to}",
        "session_id": session_id or str(secrets.randbits(60)),
        **(fields or {}),
    }
    serving = ServingConfig()  # the sessions' defaults, as the server would have them
    sessions = SessionBroker(
        MemoryStore(), "test", ttl=serving.session_ttl, max_bytes=serving.session_max_bytes
    )
    return ActionRequest.from_fields(
        sent,
        kind=kind or ("DTMF" if digits else "CALLER"),
        method=method,
        route=route,
        context=CallContext(sessions=sessions),
    )
