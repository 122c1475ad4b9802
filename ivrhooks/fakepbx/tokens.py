"""Bearer tokens of the fake PBX: issue, check, refresh, expire (PortSIP REST §4)."""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Callable
from typing import Any

__all__ = ["TokenIssuer"]


class TokenIssuer:
    def __init__(
        self,
        *,
        username: str,
        password: str,
        ttl: float = 3600.0,
        two_factor: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.username = username
        self.password = password
        self.ttl = ttl
        self.two_factor = two_factor
        self._clock = clock
        self._access: dict[str, float] = {}  # token -> expiry (clock time)
        self._refresh: set[str] = set()
        self.logins = 0
        self.refreshes = 0

    def login_ok(self, username: Any, password: Any) -> bool:
        if not isinstance(username, str) or not isinstance(password, str):
            return False
        same_user = hmac.compare_digest(username.encode(), self.username.encode())
        same_pass = hmac.compare_digest(password.encode(), self.password.encode())
        return same_user and same_pass

    def issue(self, *, refreshable: bool = True) -> dict[str, Any]:
        if self.two_factor:
            # What a v22.2+ PBX answers when the account wants a one-time code.
            return {"two_factor_enabled": True}
        access = secrets.token_urlsafe(24)
        self._access[access] = self._clock() + self.ttl
        issued: dict[str, Any] = {
            "access_token": access,
            "expires_in": max(1, round(self.ttl)),
            "token_type": "Bearer",
        }
        if refreshable:
            refresh = secrets.token_urlsafe(24)
            self._refresh.add(refresh)
            issued["refresh_token"] = refresh
        return issued

    def refresh(self, refresh_token: Any) -> dict[str, Any] | None:
        """Exchange a refresh token (single use) for new tokens, or None if unknown."""
        if not isinstance(refresh_token, str) or refresh_token not in self._refresh:
            return None
        self._refresh.discard(refresh_token)
        self.refreshes += 1
        return self.issue()

    @staticmethod
    def bearer(authorization: str | None) -> str | None:
        """The token of an ``Authorization: Bearer ...`` header, or None."""
        if not authorization:
            return None
        scheme, _, token = authorization.partition(" ")
        return token.strip() if scheme.lower() == "bearer" else None

    def seconds_left(self, token: str) -> float | None:
        """How long ``token`` stays valid; None when it is unknown or expired."""
        expiry = self._access.get(token)
        if expiry is None:
            return None
        left = expiry - self._clock()
        return left if left > 0 else None

    def check(self, authorization: str | None) -> bool:
        token = self.bearer(authorization)
        return token is not None and self.seconds_left(token) is not None

    def revoke_refresh_tokens(self) -> None:
        self._refresh.clear()

    def expire_all(self) -> None:
        """Make every issued access token expired (refresh tokens stay valid)."""
        for token in self._access:
            self._access[token] = float("-inf")
