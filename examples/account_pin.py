"""A two-step menu across two receptionists: the account number, then its PIN, checked in a CRM.

Receptionist 8000 asks for a five-digit account number; the handler remembers it in the call's
session and forwards the caller to receptionist 8001, which asks for the PIN. The PIN handler
reads the account back from the session (same call, other receptionist, maybe another replica)
and asks the CRM. Three wrong PINs and the caller goes to the operator instead of hearing the
prompt again; a slow or broken CRM sends the caller to the operator at once, within the
deadline.

Run the CRM and the app, then call through both prompts (account 31234, PIN 2468)::

    python examples/crm_service.py --port 8900 &
    CRM_URL=http://127.0.0.1:8900 ivrhooks run examples/account_pin.py
    ivrhooks call --to 8000 --caller 101 --digits 31234 --digits 2468
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

from crm_client import CRMClient, CRMUnavailable

from ivrhooks import ActionRequest, IVRHooks, call, repeat

ACCOUNTS = "8000"  # "please key your account number"
PINS = "8001"  # "please key your PIN"
OPERATOR = "0"
TRIES = 3

app = IVRHooks(receptionists=[ACCOUNTS])


@app.resource
async def crm() -> AsyncIterator[CRMClient]:
    async with CRMClient(os.environ.get("CRM_URL", "http://127.0.0.1:8900")) as client:
        yield client


@app.dtmf("10000-99999")
async def account(req: ActionRequest) -> object:
    """Step 1: remember the account number for this call, then ask for the PIN."""
    session = await req.session()
    session["account"] = req.digits
    return call(PINS)


@app.dtmf("ALL", receptionists=[PINS])
async def pin(req: ActionRequest, crm: CRMClient) -> object:
    """Step 2: the PIN for the account keyed at step 1; three tries."""
    session = await req.session()
    if "account" not in session:
        return call(ACCOUNTS)  # reached the PIN prompt some other way: start over
    try:
        async with req.budget(reserve=0.05):  # 50 ms kept to answer after giving up
            manager = await crm.verify_pin(session["account"], req.digits)
    except (TimeoutError, CRMUnavailable):
        return call(OPERATOR)
    if manager is not None:
        session["verified"] = True
        return call(manager)
    if session.attempts >= TRIES:
        return call(OPERATOR)  # the third wrong PIN: a person, not the prompt again
    return repeat()


@app.fallback
def operator(req: ActionRequest) -> object:
    return call(OPERATOR)
