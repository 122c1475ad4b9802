"""Send each caller to their account manager when the manager is free, else to the queue; when
the call ends, note in the CRM how it went beside what the app decided.

The route asks the CRM who the caller's manager is (cached, as in ``crm_lookup.py``) and then
``req.presence(manager)``: what the PBX's extension events last said of that extension, read
from the app's store, never from the PBX, so it costs the caller nothing. Free
(``"available"``): the call goes to the manager. Busy, away, do not disturb, offline or
unknown: the queue.

PortSIP tells how every call ended with a ``call_cdr`` event, posted to the tenant's CDR event
URL. The handler gets it in the background, after the call, with the app's routing decisions
for that call attached (``event.decisions``, oldest first), and writes one note per call to the
CRM: where the app sent the call, whether that target answered, how the call ended. Events come
at least once, so the note is written with ``PUT /calls/{session_id}``: a second run writes the
same note again instead of adding one. A CRM that is down makes the handler raise; ivrhooks
retries it with backoff, then keeps the event as dead (``ivrhooks events dead``).

Run the CRM service and the app, then point the tenant's event URLs at the app
(docs/events.md, "Telling PortSIP where to send them")::

    python examples/crm_service.py --port 8900 &
    CRM_URL=http://127.0.0.1:8900 ivrhooks run examples/crm_outcome.py
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

from crm_client import CRMClient, CRMUnavailable

from ivrhooks import ActionRequest, IVRHooks, call
from ivrhooks.events import CallCDR

#: The sales queue's number on the PBX: whoever of the team is free takes the call.
QUEUE = "6000"

app = IVRHooks(receptionists=["8000"])

managers = app.cache("managers", ttl=300, stale=3600, miss_ttl=30)


@app.resource
async def crm() -> AsyncIterator[CRMClient]:
    async with CRMClient(os.environ.get("CRM_URL", "http://127.0.0.1:8900")) as client:
        yield client


# Every caller number of 3 to 15 digits (E.164 numbers have at most 15).
ANY_CALLER = ";".join("*" * n for n in range(3, 16))


@app.caller(ANY_CALLER, fallback=call(QUEUE))
async def to_the_manager(req: ActionRequest, crm: CRMClient) -> object:
    try:
        async with req.budget(reserve=0.05):
            manager = await managers.get(req.caller, lambda: crm.manager_for(req.caller))
    except (TimeoutError, CRMUnavailable):
        return call(QUEUE)
    if isinstance(manager, str) and await req.presence(manager) == "available":
        return call(manager)
    return call(QUEUE)


@app.event("call_cdr")
async def note_outcome(event: CallCDR, crm: CRMClient) -> None:
    if not event.session_id:
        return  # nothing to file it under
    decided = event.decisions[-1] if event.decisions else None
    sent_to = decided.destination if decided is not None else None
    reached = next((t for t in event.targets if sent_to and t.target == sent_to), None)
    await crm.note_outcome(
        event.session_id,
        {
            # What the app decided (route, action, where) and why the fallback, if it did.
            "route": decided.route if decided else None,
            "action": decided.action if decided else None,
            "sent_to": sent_to,
            "fallback": decided.cause if decided else None,
            # What became of it, as the PBX tells it.
            "answered": reached is not None and reached.status == "answered",
            "call_status": event.call_status,
            "ended_reason": event.ended_reason,
            "talk_seconds": event.talk_duration,
        },
    )
