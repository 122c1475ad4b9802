"""The PBX access token: log in, remember which generation works, refresh, re-login.

PortSIP REST §4 (reference/portsip.md) has three generations of login endpoints
(:mod:`ivrhooks.pbx.generations`): ``POST /auth/sign_in`` (v22.2+), ``POST /login/oauth/token``
(v22.0/22.1) and ``POST /login`` (every published OpenAPI document). The first login tries them
in that order, falling back on 404/405, and remembers the one that answered; later logins and
refreshes use it alone. One lock serialises every login and refresh so concurrent requests
share one token.

A refused login (:class:`~ivrhooks.errors.PBXLoginRefusedError`: 401, 403 or another 4xx on
the login endpoint) is tried once: PortSIP blocks an address after repeated failed logins
(reference/portsip.md §5). Requests that were waiting for that login get its refusal rather
than trying again themselves, and a :class:`LoginGate` (the registration service's budget of
refused logins, shared by its replicas) may forbid a login before it is sent.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Protocol

import httpx
from pydantic import ValidationError

from ivrhooks.errors import (
    InvalidArgumentError,
    PBXLoginError,
    PBXLoginRefusedError,
    TwoFactorRequiredError,
)
from ivrhooks.pbx.generations import (
    GENERATIONS,
    OAUTH_CLIENT_ID,
    Generation,
    login_request,
    refresh_request,
)
from ivrhooks.schema.models import LoginBody, TokenResponse
from ivrhooks.schema.wire import describe_validation_error

__all__ = ["OAUTH_CLIENT_ID", "Generation", "LoginGate", "Send", "TokenManager"]

log = logging.getLogger("ivrhooks.pbx")

#: Sends an unauthenticated request to a path under the base URL (the client's chokepoint).
Send = Callable[..., Awaitable[httpx.Response]]

#: The statuses that mean "this PBX has no such endpoint": try the next generation.
_ABSENT = (404, 405)
#: 4xx answers to a login that are not a verdict on the credentials: retried later as usual.
_NOT_A_VERDICT = (*_ABSENT, 408, 429)


class LoginGate(Protocol):
    """Asked before every login (not refreshes) is sent, and told how it ended."""

    async def claim(self) -> object:
        """Permission to send one login, or :class:`~ivrhooks.errors.PBXLoginBudgetError`."""
        ...

    async def settle(self, claim: object, *, refused: bool) -> None:
        """The login of ``claim`` ended: ``refused`` by the PBX, or not (worked, or failed)."""
        ...


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
        wall_clock: Callable[[], float] = time.time,
        on_login: Callable[[str, bool], None] | None = None,
        gate: LoginGate | None = None,
    ) -> None:
        if token is None and (not username or not password):
            raise InvalidArgumentError(
                "username and password: required unless a static token is given"
            )
        if username and password:
            _check_login(username, password, domain)
        self._send = send
        self._username = username
        self._password = password
        self._domain = domain
        self._access: str | None = token
        self._refresh: str | None = None
        self._refresh_at: float | None = None
        self._margin = refresh_margin
        self._clock = clock
        self._wall_clock = wall_clock
        self._lock = asyncio.Lock()
        self._gate = gate
        # Tokens this manager held before the current ones: a PBX may still quote them.
        self._retired: deque[str] = deque(maxlen=4)
        #: The last login's refusal (None: it was not refused, or none was sent).
        self.refusal: PBXLoginRefusedError | None = None
        # Told of each login ("login") and refresh ("refresh") sent, and whether it worked.
        self._on_login = on_login
        #: The login endpoint that answered (None until the first login).
        self.generation: Generation | None = None
        #: The current token's lifetime in seconds as the PBX gave it (None: not said).
        self.expires_in: int | None = None
        #: How many logins and refreshes went over the wire (tests and metrics read these).
        self.logins = 0
        self.refreshes = 0

    @property
    def can_login(self) -> bool:
        return bool(self._username and self._password)

    @property
    def secrets(self) -> tuple[str, ...]:
        """What must never be shown: the password and the tokens, current and recent."""
        held = (self._password, self._access, self._refresh, *self._retired)
        return tuple(s for s in held if s)

    async def token(self) -> str:
        """A token that is not about to expire."""
        refused = self.refusal
        async with self._lock:
            if self._access is not None and not self._due():
                return self._access
            if self.refusal is not None and self.refusal is not refused:
                # Refused while this request waited: that is its answer too. Sending the same
                # credentials again at once would only count as another failed login (§5).
                raise self.refusal
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
                self._retired.append(stale)
                self._access = None
                self._refresh = None
                self._refresh_at = None
            return True

    def _due(self) -> bool:
        return self._refresh_at is not None and self._clock() >= self._refresh_at

    def _accept(self, response: httpx.Response, what: str) -> None:
        try:
            body = TokenResponse.model_validate(response.json())
        except ValueError:  # not JSON, or pydantic's ValidationError
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
        if self._access is not None:
            self._retired.append(self._access)
        self._access = body.access_token
        # POST /login has no refresh endpoint: its tokens are renewed by logging in again.
        self._refresh = body.refresh_token if self.generation is not Generation.LOGIN else None
        # expires_in varies between builds (1800 and 3600 seen): always read it (§4).
        # A token shorter-lived than twice the margin is refreshed at half its life.
        ttl = self._lifetime(body)
        self.expires_in = None if ttl is None else round(ttl)
        margin = None if ttl is None else min(self._margin, ttl / 2)
        self._refresh_at = None if ttl is None else self._clock() + ttl - (margin or 0.0)

    def _lifetime(self, body: TokenResponse) -> float | None:
        """Seconds the token lives: ``expires_in``, else ``expires_at`` (RFC 3339) from now."""
        if body.expires_in is not None and body.expires_in > 0:
            return float(body.expires_in)
        if body.expires_at:
            try:
                at = datetime.fromisoformat(body.expires_at)
            except ValueError:
                log.warning("the PBX's expires_at is not an RFC 3339 time; relying on 401s")
                return None
            # RFC 3339 times carry an offset; one without is read as UTC ("Z"), not local time.
            ttl = at.replace(tzinfo=at.tzinfo or UTC).timestamp() - self._wall_clock()
            if ttl > 0:
                return ttl
            # A time already past means the clocks disagree; a 401 will say when it expires.
            log.warning("the PBX's expires_at is in the past (clock skew?); relying on 401s")
        return None

    def _told(self, kind: str, ok: bool) -> None:
        if self._on_login is not None:
            self._on_login(kind, ok)

    async def _login(self) -> None:
        if not self.can_login:
            raise PBXLoginError("the static token expired or was refused, and no login was given")
        claim = await self._gate.claim() if self._gate is not None else None
        self.refusal = None
        refused = False
        try:
            await self._log_in()
        except PBXLoginError as exc:
            if isinstance(exc, PBXLoginRefusedError):
                refused, self.refusal = True, exc
            self._told("login", False)
            raise
        finally:
            if self._gate is not None:
                await self._gate.settle(claim, refused=refused)
        self._told("login", True)

    async def _log_in(self) -> None:
        assert self._username is not None and self._password is not None
        self.logins += 1
        candidates = (self.generation,) if self.generation else GENERATIONS
        for generation in candidates:
            kwargs = login_request(generation, self._username, self._password, self._domain)
            response = await self._send("POST", generation.value, **kwargs)
            if response.status_code in _ABSENT and self.generation is None:
                log.info("the PBX has no %s (%d)", generation.label, response.status_code)
                continue
            self._check_login_status(response)
            if self.generation is None:
                log.info("logged in to the PBX with %s", generation.label)
            self.generation = generation
            self._accept(response, f"login ({generation.label})")
            return
        tried = ", ".join(g.label for g in GENERATIONS)
        raise PBXLoginError(
            f"the PBX answers none of PortSIP's login endpoints ({tried}): check that the PBX "
            "URL is the REST API's base and ends in /api (e.g. https://pbx.example.com:8887/api)",
            status=response.status_code,
        )

    @staticmethod
    def _check_login_status(response: httpx.Response) -> None:
        status = response.status_code
        if status < 400:
            return
        # The body may echo what we sent; report the status only.
        if status < 500 and status not in _NOT_A_VERDICT:
            raise PBXLoginRefusedError(
                f"the PBX refused the login with status {status}; "
                "check the username, password and domain",
                status=status,
            )
        raise PBXLoginError(f"the PBX's login endpoint answered {status}", status=status)

    async def _try_refresh(self) -> bool:
        assert self._refresh is not None
        if self.generation is None or not self.generation.refreshes:
            return False
        self.refreshes += 1
        path, kwargs = refresh_request(self.generation, self._refresh)
        response = await self._send("POST", path, **kwargs)
        if response.status_code >= 400:
            log.info("token refresh refused (%d); logging in again", response.status_code)
            self._told("refresh", False)
            return False
        try:
            self._accept(response, "refresh")
        except PBXLoginError:
            self._told("refresh", False)
            return False
        self._told("refresh", True)
        return True


def _check_login(username: str, password: str, domain: str | None) -> None:
    """The login as the token endpoints' schema allows it (username 1..64, domain 1..280)."""
    fields = {"username": username, "password": password}
    if domain:
        fields["domain"] = domain
    try:
        LoginBody.model_validate(fields)
    except ValidationError as exc:
        # pydantic's messages name the field and the rule, never the value: no password here.
        raise InvalidArgumentError(f"PBX login: {describe_validation_error(exc)}") from None
