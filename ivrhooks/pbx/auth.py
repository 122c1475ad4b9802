"""``BearerAuth``: the PBX's access token as an ``httpx.Auth`` flow (PortSIP REST §4).

Every REST call carries ``Authorization: Bearer <access_token>`` (reference/portsip.md §4). The
flow asks the :class:`~ivrhooks.pbx.tokens.TokenManager` for a token (it logs in, refreshes
before expiry, and remembers the login generation that answered), sends the request, and on a
401 drops the token, gets a fresh one and sends the request once more: a token can die before
its ``expires_in`` (revoked, PBX restarted). A second 401 is the answer: the flow gives up.

The token manager sends its logins over the network and holds a lock, so this overrides
``async_auth_flow``, as httpx asks of a flow that does I/O; there is no sync flow (ivrhooks is
async only inside).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Generator

import httpx

from ivrhooks.pbx.tokens import TokenManager

__all__ = ["BearerAuth"]

log = logging.getLogger("ivrhooks.pbx")


class BearerAuth(httpx.Auth):
    """``Authorization: Bearer`` from ``tokens``; one fresh login and resend after a 401."""

    def __init__(self, tokens: TokenManager) -> None:
        self.tokens = tokens

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response]:
        raise RuntimeError("BearerAuth logs in asynchronously: use it with httpx.AsyncClient")

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        token = await self.tokens.token()
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code != 401:
            return
        # Read the refusal first: it frees the connection before the login needs one.
        await response.aread()
        if not await self.tokens.invalidate(token):
            return  # a static token and no login: nothing better to send
        log.info("the PBX refused the token; logging in again")
        request.headers["Authorization"] = f"Bearer {await self.tokens.token()}"
        yield request
