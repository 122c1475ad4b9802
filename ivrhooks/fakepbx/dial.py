"""Place a call on the fake PBX: fire the matching action URL exactly as PortSIP does.

PortSIP admin guide "Action URL" (reference/portsip.md §1): CALLER-type URLs are checked when
the call arrives (against the caller's number, ``input`` empty), DTMF-type URLs when the caller
keys digits. GET sends the fields in the query string, POST as a JSON object of strings;
``headers`` is ``k1:v1&k2:v2``; auth is DISABLE, BASIC, DIGEST or BEARER; the timeouts are
``connection_timeout`` (connect) and ``request_timeout`` (the answer).
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import httpx

from ivrhooks.errors import MaskError
from ivrhooks.fakepbx.matching import Kind, compile_mask
from ivrhooks.fakepbx.shape import RequestShape
from ivrhooks.pbx.tls import tls_context
from ivrhooks.schema.models import ActionUrl, ActionUrlType, AuthMode

__all__ = ["DialResult", "fire", "pick_action_url", "request_fields"]


@dataclass(frozen=True)
class DialResult:
    """What happened when the fake PBX placed a call."""

    action_url: ActionUrl | None  # the action URL that fired; None: nothing matched, nothing sent
    fields: dict[str, str]  # what was sent (from, to, input, from_name, account_name, session_id)
    status: int | None = None
    decision: dict[str, Any] | None = None
    latency: float = 0.0
    error: str | None = None
    outcome: dict[str, Any] | None = None
    """What the app says it decided and why (a ``CallRecord`` as JSON), when the fake PBX is
    embedded in the app's process and can ask (``FakePBX(outcomes=...)``)."""
    reprompt: bool = False
    """The request failed and the PBX plays the prompt again, so the caller's next keys fire
    an action URL there again (a recorded build's reaction, :mod:`.behaviour`); otherwise a
    failed request ends the call's time with the action URLs."""

    @property
    def matched(self) -> bool:
        return self.action_url is not None

    @property
    def action(self) -> str | None:
        value = (self.decision or {}).get("action")
        return value if isinstance(value, str) else None

    @property
    def destination(self) -> str | None:
        value = (self.decision or {}).get("destination")
        return None if value is None else str(value)


def _matches(url: ActionUrl, value: str) -> bool:
    mask = url.caller_mask if url.type is ActionUrlType.CALLER else url.dtmf_mask
    if not mask:
        return False
    kind: Kind = "CALLER" if url.type is ActionUrlType.CALLER else "DTMF"
    try:
        return compile_mask(mask, kind).matches(value)
    except MaskError:
        return False  # a mask the PBX should have rejected never fires


def pick_action_url(
    urls: Iterable[ActionUrl], *, caller: str, digits: str
) -> tuple[ActionUrl, str] | None:
    """The action URL a call fires and the ``input`` it carries, or None."""
    enabled = [u for u in urls if u.enabled and u.url]
    for url in enabled:
        if url.type is ActionUrlType.CALLER and _matches(url, caller):
            return url, ""
    if digits:
        for url in enabled:
            if url.type is ActionUrlType.DTMF and _matches(url, digits):
                return url, digits
    return None


def request_fields(
    *,
    caller: str,
    to: str,
    digits: str,
    caller_name: str,
    account_name: str,
    session_id: str | None,
) -> dict[str, str]:
    return {
        "session_id": session_id or str(secrets.randbits(60)),
        "from": caller,
        "to": to,
        "input": digits,
        "from_name": caller_name,
        "account_name": account_name,
    }


def _headers(url: ActionUrl) -> dict[str, str]:
    headers: dict[str, str] = {}
    for pair in (url.headers or "").split("&"):
        key, sep, value = pair.partition(":")
        if sep and key.strip():
            headers[key.strip()] = value.strip()
    if url.auth is AuthMode.BEARER and url.token:
        headers["Authorization"] = f"Bearer {url.token}"
    return headers


def _auth(url: ActionUrl) -> httpx.Auth | None:
    if url.auth is AuthMode.BASIC:
        return httpx.BasicAuth(url.username or "", url.password or "")
    if url.auth is AuthMode.DIGEST:
        return httpx.DigestAuth(url.username or "", url.password or "")
    return None


async def fire(
    url: ActionUrl, fields: dict[str, str], *, shape: RequestShape | None = None
) -> DialResult:
    """Send the action-URL request; never raises for network trouble (it lands in ``error``).
    ``shape``: send as a recorded PBX build does (its headers, body and field order)."""
    connect = float(url.connection_timeout or 2)
    answer = float(url.request_timeout or 2)
    timeout = httpx.Timeout(answer, connect=connect)
    started = time.monotonic()
    status: int | None = None
    decision: dict[str, Any] | None = None
    error: str | None = None
    try:
        # The shared TLS context: a client per call must not load the CA bundle per call.
        async with httpx.AsyncClient(
            timeout=timeout, auth=_auth(url), verify=tls_context()
        ) as client:
            kwargs: dict[str, Any] = {"headers": _headers(url)}
            method = "POST" if url.method is not None and url.method.value == "POST" else "GET"
            if shape is not None:
                shape.prepare(client, fields, kwargs)
            elif method == "POST":
                kwargs["json"] = fields
            else:
                kwargs["params"] = fields
            # Bound the whole exchange too: the PBX gives up on a slow answer, not per chunk.
            async with asyncio.timeout(connect + answer):
                response = await client.request(method, url.url or "", **kwargs)
        status = response.status_code
        try:
            body = response.json()
        except ValueError:
            error = "invalid JSON"
        else:
            if isinstance(body, dict):
                decision = body
            else:
                error = "invalid JSON: not an object"
        if error is None and status != 200:
            error = f"status {status}"
    except (httpx.TimeoutException, TimeoutError):
        error = "timeout"
    except httpx.ConnectError as exc:
        error = f"connection refused: {exc}"
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}"
    return DialResult(
        action_url=url,
        fields=fields,
        status=status,
        decision=decision,
        latency=time.monotonic() - started,
        error=error,
    )
