"""Route each caller to their account manager, looked up in a CRM over HTTP.

The CRM answers ``GET /customers/{phone}`` with ``{"manager": "2001", ...}`` or 404. Lookups share
one ``httpx.AsyncClient``, are cached with a TTL, and concurrent lookups of one number collapse into
one request (see ``crm_client.py``). When the CRM is slow, down, or does not know the caller, the
call goes to the operator — always within the PBX's deadline.

Run the small CRM service and the app::

    python examples/crm_service.py --port 8900 &
    CRM_URL=http://127.0.0.1:8900 ivrhooks run examples/crm_lookup.py
    ivrhooks call --to 8000 --caller 5551234
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from crm_client import CRMClient, CRMUnavailable

from ivrhooks import ActionRequest, IVRHooks, call

OPERATOR = "0"
# Leave this much of the answer budget for answering the PBX after the lookup gives up.
MARGIN = 0.15


@asynccontextmanager
async def lifespan(app: IVRHooks) -> AsyncIterator[dict[str, object]]:
    async with CRMClient(os.environ.get("CRM_URL", "http://127.0.0.1:8900"), timeout=1.0) as crm:
        yield {"crm": crm}


app = IVRHooks(receptionists=["8000"], lifespan=lifespan)

# Every caller number of 3 to 15 digits (E.164 numbers have at most 15).
ANY_CALLER = ";".join("*" * n for n in range(3, 16))


@app.caller(ANY_CALLER)
async def account_manager(req: ActionRequest) -> object:
    crm: CRMClient = app.state.crm
    try:
        manager = await crm.manager_for(req.caller, timeout=max(0.01, req.time_left() - MARGIN))
    except CRMUnavailable:
        return call(OPERATOR)
    return call(manager) if manager else call(OPERATOR)


@app.fallback
def operator(req: ActionRequest) -> object:
    return call(OPERATOR)
