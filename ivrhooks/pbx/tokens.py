"""The PBX access token: log in, remember which generation works, refresh, re-login.

PortSIP REST §4 (reference/portsip.md): v22.2+ signs in with ``POST /auth/sign_in`` (JSON) and
refreshes with ``POST /auth/refresh_token``; v22.0/22.1 use the OAuth-style form endpoint
``POST /login/oauth/token`` for both. We try the first and fall back on 404/405.
One lock serialises every login and refresh so concurrent requests share one token.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from enum import Enum
from typing import Any

import httpx
from pydantic import ValidationError

from ivrhooks.models import TokenResponse
from ivrhooks.pbx.errors import PBXLoginError, TwoFactorRequiredError

__all__ = ["OAUTH_CLIENT_ID", "Generation", "Send", "TokenManager"]

log = logging.getLogger("ivrhooks.pbx")

#: The client id PortSIP's own web client uses on the v22.0/22.1 token endpoint ([AUTH]).
OAUTH_CLIENT_ID = "9d806019-75b2-4b3d-bb8b-f5a3a412cc0a"

#: Sends an unauthenticated request to a path under the base URL (the client's chokepoint).
Send = Callable[..., Awaitable[httpx.Response]]


class Generation(Enum):
    SIGN_IN = "auth/sign_in"
    OAUTH = "login/oauth/token"


class TokenManager:
    """Hands out a valid access token, logging in or refreshing as needed."""

    def __init__(
        self,
        send: Send,
        *,
        username: str | None,
        password: str | None,
        domain: str | None = None,
        token: str | None = None,
        refresh_margin: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if token is None and (not username or not password):
            raise ValueError("username and password: required unless a static token is given")
        self._send = send
        self._username = username
        self._password = password
        self._domain = domain
        self._access: str | None = token
        self._refresh: str | None = None
        self._refresh_at: float | None = None
        self._margin = refresh_margin
        self._clock = clock
        self._lock = asyncio.Lock()
        self.generation: Generation | None = None
        #: How many logins and refreshes went over the wire (tests and metrics read these).
        self.logins = 0
        self.refreshes = 0

    @property
    def can_login(self) -> bool:
        return bool(self._username and self._password)

    async def token(self) -> str:
        """A token that is not about to expire."""
        async with self._lock:
            if self._access is not None and not self._due():
                return self._access
            if self._access is not None and self._refresh is not None and await self._try_refresh():
                return self._access
            await self._login()
            assert self._access is not None
            return self._access

    async def invalidate(self, stale: str) -> bool:
        """The PBX refused ``stale`` (401): drop it so the next ``token()`` logs in again.

        Returns False when there is no way to get another token (static token, no login).
        """
        async with self._lock:
            if not self.can_login:
                return False
            if self._access == stale:
                self._access = None
                self._refresh = None
                self._refresh_at = None
            return True

    def _due(self) -> bool:
        return self._refresh_at is not None and self._clock() >= self._refresh_at

    def _accept(self, response: httpx.Response, what: str) -> None:
        try:
            body = TokenResponse.model_validate(response.json())
        except (ValueError, ValidationError):
            raise PBXLoginError(
                f"{what}: the PBX answered {response.status_code} without a token body",
                status=response.status_code,
            ) from None
        if body.two_factor_enabled:
            raise TwoFactorRequiredError(
                "the PBX account has two-factor login enabled, which ivrhooks cannot answer; "
                "use an account without two-factor login (e.g. a dedicated API user)",
                status=response.status_code,
            )
        if not body.access_token:
            raise PBXLoginError(f"{what}: the PBX reply has no access_token")
        self._access = body.access_token
        self._refresh = body.refresh_token
        # expires_in varies between builds (1800 and 3600 seen): always read it (§4).
        # A token shorter-lived than twice the margin is refreshed at half its life.
        ttl = body.expires_in
        margin = None if ttl is None else min(self._margin, ttl / 2)
        self._refresh_at = None if ttl is None else self._clock() + ttl - (margin or 0.0)

    async def _login(self) -> None:
        if not self.can_login:
            raise PBXLoginError("the static token expired or was refused, and no login was given")
        self.logins += 1
        if self.generation in (None, Generation.SIGN_IN):
            body: dict[str, Any] = {"username": self._username, "password": self._password}
            if self._domain:
                body["domain"] = self._domain
            response = await self._send("POST", Generation.SIGN_IN.value, json=body)
            if response.status_code in (404, 405) and self.generation is None:
                log.info("the PBX has no /auth/sign_in; using /login/oauth/token (PBX < 22.2)")
                self.generation = Generation.OAUTH
            else:
                self._check_login_status(response)
                self.generation = Generation.SIGN_IN
                self._accept(response, "sign in")
                return
        form = {
            "grant_type": "password",
            "username": self._username or "",
            "password": self._password or "",
            "scope": "all",
            "client_id": OAUTH_CLIENT_ID,
        }
        if self._domain:
            form["domain"] = self._domain
        response = await self._send("POST", Generation.OAUTH.value, data=form)
        self._check_login_status(response)
        self.generation = Generation.OAUTH
        self._accept(response, "login")

    @staticmethod
    def _check_login_status(response: httpx.Response) -> None:
        if response.status_code >= 400:
            # The body may echo what we sent; report the status only.
            raise PBXLoginError(
                f"the PBX refused the login with status {response.status_code}; "
                "check the username, password and domain",
                status=response.status_code,
            )

    async def _try_refresh(self) -> bool:
        assert self._refresh is not None
        self.refreshes += 1
        if self.generation is Generation.OAUTH:
            form = {
                "grant_type": "refresh_token",
                "refresh_token": self._refresh,
                "client_id": OAUTH_CLIENT_ID,
            }
            response = await self._send("POST", Generation.OAUTH.value, data=form)
        else:
            body = {"refresh_token": self._refresh}
            response = await self._send("POST", "auth/refresh_token", json=body)
        if response.status_code >= 400:
            log.info("token refresh refused (%d); logging in again", response.status_code)
            return False
        try:
            self._accept(response, "refresh")
        except PBXLoginError:
            return False
        return True
