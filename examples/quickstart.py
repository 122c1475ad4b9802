"""A small menu for receptionist 8000: sales, support, account numbers and a VIP caller.

Run it with an embedded fake PBX (no phone system needed)::

    ivrhooks run examples/quickstart.py

then, in another terminal, place a test call::

    ivrhooks call --to 8000 --caller 101 --digits 1
"""

from __future__ import annotations

from ivrhooks import ActionRequest, IVRHooks, call, hangup, repeat

app = IVRHooks(receptionists=["8000"])

SALES_QUEUE = "2001"
SUPPORT_QUEUE = "2002"
ACCOUNTS_DESK = "2100"
VIP_LINE = "2900"


@app.dtmf("1")
async def sales(req: ActionRequest) -> object:
    """Key 1: the sales queue."""
    return call(SALES_QUEUE)


@app.dtmf("2")
async def support(req: ActionRequest) -> object:
    """Key 2: support."""
    return call(SUPPORT_QUEUE)


@app.dtmf("9")
async def goodbye(req: ActionRequest) -> object:
    """Key 9: end the call."""
    return hangup()


@app.dtmf("3000-4999")
async def account(req: ActionRequest) -> object:
    """A four-digit account number: accounts 3000-3999 have their own desk extension."""
    if req.digits.startswith("3"):
        return call("2" + req.digits[1:])  # account 3123 -> extension 2123
    return call(ACCOUNTS_DESK)


@app.caller("5551234;555000*")
def vip(req: ActionRequest) -> str:
    """Known VIP numbers skip the menu (a sync handler: it runs in the thread pool)."""
    return VIP_LINE


@app.fallback
def default(req: ActionRequest) -> object:
    """Whenever a handler fails or runs late: play the menu again."""
    return repeat()
