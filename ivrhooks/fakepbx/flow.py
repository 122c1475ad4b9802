"""A call that goes on across receptionists: the fake PBX follows forwards under one session id.

PortSIP builds multi-step menus from receptionists that forward to each other
(reference/portsip.md §5), and keeps the call's ``session_id`` across the forward. So a call here
arrives at a receptionist (a CALLER action URL may fire on arrival), the caller keys the next
group of digits (a DTMF action URL may fire), and the decision decides what follows:

- ``call`` to another receptionist of this PBX: the call arrives there, same session id;
- ``repeat``: the prompt plays again at the same receptionist, and the next digits go there;
- ``call`` to any other number, ``hangup``, a failed request, or input no action URL takes
  (the receptionist's own menu handles it): the call leaves the action URLs' hands; it ends here
  (unless a recorded build's behaviour says it prompts again after a failure: :mod:`.behaviour`).
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from ivrhooks.fakepbx.dial import DialResult, fire, pick_action_url, request_fields
from ivrhooks.schema.models import ActionUrl, ActionUrlType, Ivr

__all__ = ["MAX_HOPS", "CallFlow", "follow"]

#: A forward loop between receptionists ends here rather than running for ever.
MAX_HOPS = 32


@dataclass(frozen=True)
class CallFlow:
    """Every action URL a call fired, in order, under one session id."""

    session_id: str
    hops: list[DialResult] = field(default_factory=list)
    """One per action URL fired, and a last one with ``action_url=None`` when input found no
    action URL (the receptionist's own menu took it)."""
    unused: list[str] = field(default_factory=list)
    """Digits the caller would have keyed after the call left the action URLs."""

    @property
    def last(self) -> DialResult | None:
        return self.hops[-1] if self.hops else None


async def follow(
    ivr_of: Callable[[str], Ivr],
    urls_of: Callable[[str], list[ActionUrl]],
    *,
    to: str,
    caller: str,
    keys: Sequence[str],
    caller_name: str = "",
    session_id: str | None = None,
    send: Callable[[ActionUrl, dict[str, str]], Awaitable[DialResult]] = fire,
) -> CallFlow:
    """Place a call at ``to`` and follow it, keying ``keys`` one group per prompt.

    An unknown ``to`` raises ``LookupError``; a forward to an unknown number ends the call.
    """
    flow = CallFlow(session_id=session_id or str(secrets.randbits(60)))
    pending = list(keys)
    here, arrived = to, True
    ivr = ivr_of(here)
    while len(flow.hops) < MAX_HOPS:
        urls = urls_of(here)
        fields = request_fields(
            caller=caller,
            to=here,
            digits="",
            caller_name=caller_name,
            account_name=ivr.name or "",
            session_id=flow.session_id,
        )
        picked = None
        if arrived:  # a CALLER action URL is checked when the call arrives, not on a replay
            callers = [u for u in urls if u.type is ActionUrlType.CALLER]
            picked = pick_action_url(callers, caller=caller, digits="")
        if picked is None:
            if not pending:
                break  # the caller keys nothing more: the prompt waits, the call ends here
            digits = pending.pop(0)
            fields["input"] = digits
            dtmf = [u for u in urls if u.type is ActionUrlType.DTMF]
            picked = pick_action_url(dtmf, caller=caller, digits=digits)
            if picked is None:
                flow.hops.append(DialResult(action_url=None, fields=fields))
                break  # no action URL takes it: the receptionist's own menu does
        url, value = picked
        result = await send(url, {**fields, "input": value})
        flow.hops.append(result)
        if result.reprompt:
            arrived = False  # the recorded build plays the prompt again after a failure
            continue
        if result.error is not None or result.action is None:
            break
        if result.action == "repeat":
            arrived = False  # the same receptionist prompts again
            continue
        if result.action != "call" or result.destination is None:
            break  # hangup
        try:
            ivr = ivr_of(result.destination)
        except LookupError:
            break  # forwarded to an extension or a number that is not a receptionist
        here, arrived = result.destination, True
    flow.unused.extend(pending)
    return flow
