"""Route each caller to their account manager, looked up in a CRM over HTTP.

The CRM answers ``GET /customers/{phone}`` with ``{"manager": "2001", ...}`` or 404. The CRM
client is a resource, set up once and handed to the handler by name; lookups go through a
cache that answers known callers at once, serves a stale answer while it refreshes it, lets one
lookup per number run at a time, and keeps the answer of a lookup the caller could not wait
for. The handler bounds its own wait with ``req.budget()``, so when the CRM is slow, down, or
does not know the caller, the handler itself sends the call to the operator, within the PBX's
deadline.

Run the small CRM service and the app::

    python examples/crm_service.py --port 8900 &
    CRM_URL=http://127.0.0.1:8900 ivrhooks run examples/crm_lookup.py
    ivrhooks call --to 8000 --caller 5551234
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

from crm_client import CRMClient, CRMUnavailable

from ivrhooks import ActionRequest, IVRHooks, call

OPERATOR = "0"

app = IVRHooks(receptionists=["8000"])

# Known callers for 5 minutes (then served stale for an hour while refreshed); unknown ones
# for 30 seconds, so a new customer is recognised soon.
managers = app.cache("managers", ttl=300, stale=3600, miss_ttl=30)


@app.resource
async def crm() -> AsyncIterator[CRMClient]:
    async with CRMClient(os.environ.get("CRM_URL", "http://127.0.0.1:8900")) as client:
        yield client


# Every caller number of 3 to 15 digits (E.164 numbers have at most 15).
ANY_CALLER = ";".join("*" * n for n in range(3, 16))


@app.caller(ANY_CALLER, fallback=call(OPERATOR))
async def account_manager(req: ActionRequest, crm: CRMClient) -> object:
    try:
        # 50 ms kept to answer the PBX after giving up on the CRM.
        async with req.budget(reserve=0.05):
            manager = await managers.get(req.caller, lambda: crm.manager_for(req.caller))
    except (TimeoutError, CRMUnavailable):
        return call(OPERATOR)
    return call(manager if isinstance(manager, str) else OPERATOR)
