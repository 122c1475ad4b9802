"""Who the logged-in account is: its role and capabilities, where the PBX says.

``GET /auth/user`` (v22.2+) returns ``role`` and ``password_force_reset``, and ``capabilities``
from v22.3 (reference/portsip.md §5); many endpoints need the "Phone System: Full Access"
capability from v22.3. A PBX without ``/auth/*`` (v22.0/22.1) still documents
``GET /login`` ("login status of current session", OpenAPI ``getLoginStatus``), whose reply
carries the ``role``. Read-only: nothing here writes to the PBX.
"""

from __future__ import annotations

from ivrhooks.errors import PBXAPIError, PBXUnauthorizedError
from ivrhooks.pbx.resources import Requester, read_model
from ivrhooks.schema.models import AccountInfo

__all__ = ["ACCOUNT_PATHS", "account_info"]

#: Where the account is read from, in order.
ACCOUNT_PATHS = ("auth/user", "login")


async def account_info(client: Requester) -> AccountInfo | None:
    """The account as the PBX describes it, or None when it offers neither endpoint."""
    for path in ACCOUNT_PATHS:
        try:
            response = await client.request("GET", path)
        except PBXUnauthorizedError:
            if path == "login":
                return None  # a status endpoint tied to a browser session, not to the token
            raise
        except PBXAPIError as exc:
            if exc.status in (404, 405):
                continue
            raise
        info = read_model(AccountInfo, response, "GET", path)
        return info.model_copy(update={"source": "GET /" + path})
    return None
