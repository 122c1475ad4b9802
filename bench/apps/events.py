"""The events bench's app, for ``ivrhooks run bench/apps/events.py:app``: one route, and a
``call_cdr`` handler that only counts, so what is measured is the receiving side itself.

The secret is in the code (as ``bench/apps/ivr.py``'s), so the bench derives the event URLs'
credentials from it.
"""

from __future__ import annotations

from bench.apps import RECEPTIONIST, SECRET
from ivrhooks import ActionRequest, IVRHooks, call
from ivrhooks.events import CallCDR

app = IVRHooks(receptionists=[RECEPTIONIST], secret=SECRET)


@app.event("call_cdr")
async def outcome(event: CallCDR) -> None:
    return None


@app.dtmf("1")
async def sales(req: ActionRequest) -> object:
    return call("2001")
