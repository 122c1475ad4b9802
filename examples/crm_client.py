"""The CRM examples' client: the CRM's questions, and its notes of how calls went, over one
shared ``httpx.AsyncClient``.

Only the HTTP: what the caller's time allows is the handler's (``req.budget()``), and caching,
single flight and finishing a lookup the caller could not wait for are ``app.cache``'s
(``crm_lookup.py``). Every failure (a timeout, a refused connection, a 5xx, a malformed answer) is
:class:`CRMUnavailable`; messages never contain the phone number, since exceptions reach logs.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import Self
from urllib.parse import quote

import httpx

__all__ = ["CRMClient", "CRMUnavailable"]


class CRMUnavailable(Exception):
    """The CRM could not answer, or not in time: the app should fall back (the operator)."""


class CRMClient:
    """``async with CRMClient("http://crm:8900") as crm: await crm.manager_for(caller)``."""

    def __init__(self, base_url: str, *, timeout: float = 1.0) -> None:
        if not timeout > 0:
            raise ValueError(f"timeout must be > 0 seconds, got {timeout!r}")
        self.base_url = base_url.rstrip("/")
        self._http = httpx.AsyncClient(base_url=self.base_url, timeout=timeout)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._http.aclose()

    async def manager_for(self, phone: str) -> str | None:
        """The extension of ``phone``'s account manager, or ``None`` for an unknown caller."""
        if not isinstance(phone, str) or not phone:
            raise ValueError("phone must be a non-empty string")
        response = await self._ask("GET", f"/customers/{quote(phone, safe='')}")
        if response.status_code == 404:
            return None
        manager = self._json(response).get("manager")
        if not isinstance(manager, str) or not manager:
            raise CRMUnavailable("the CRM answered 200 without a manager")
        return manager

    async def verify_pin(self, account: str, pin: str) -> str | None:
        """The account manager's extension when ``pin`` opens ``account``, else ``None`` (a
        wrong PIN or an unknown account)."""
        path = f"/accounts/{quote(account, safe='')}/verify"
        response = await self._ask("POST", path, json={"pin": pin})
        if response.status_code == 404:
            return None
        body = self._json(response)
        manager = body.get("manager") if body.get("ok") is True else None
        return manager if isinstance(manager, str) and manager.isdigit() else None

    async def note_outcome(self, session_id: str, note: Mapping[str, object]) -> None:
        """Keep ``note`` (how the call went) under the call's ``session_id``; writing it again
        replaces it, so a note sent twice is one note."""
        if not isinstance(session_id, str) or not session_id:
            raise ValueError("session_id must be a non-empty string")
        response = await self._ask("PUT", f"/calls/{quote(session_id, safe='')}", json=note)
        if response.status_code != 200:
            raise CRMUnavailable(f"the CRM answered HTTP {response.status_code} to a call note")

    async def outcome_of(self, session_id: str) -> dict[str, object] | None:
        """The note kept for the call ``session_id``, or ``None``."""
        response = await self._ask("GET", f"/calls/{quote(session_id, safe='')}")
        return None if response.status_code == 404 else self._json(response)

    async def _ask(self, method: str, path: str, **kwargs: object) -> httpx.Response:
        try:
            response = await self._http.request(method, path, **kwargs)  # type: ignore[arg-type]
        except httpx.TimeoutException:
            raise CRMUnavailable("the CRM did not answer in time") from None
        except httpx.HTTPError as exc:
            raise CRMUnavailable(f"the CRM is unreachable ({type(exc).__name__})") from None
        if response.status_code not in (200, 404):
            raise CRMUnavailable(f"the CRM answered HTTP {response.status_code}")
        return response

    @staticmethod
    def _json(response: httpx.Response) -> dict[str, object]:
        try:
            body = response.json()
        except ValueError:
            raise CRMUnavailable("the CRM answered something that is not JSON") from None
        if not isinstance(body, dict):
            raise CRMUnavailable("the CRM answered something that is not a JSON object")
        return body
