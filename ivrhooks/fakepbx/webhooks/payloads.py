"""The events a call sends, in PortSIP's words and with PortSIP's irregularities.

Built from the event reference (``development-portsip/webhook-notifications/event-reference.md``,
knowledge base commit ``2da3336``) and its one ``call_cdr`` example, whose types the fake copies
on purpose, so a receiver is tested against what PortSIP documents sending: times as strings of
Unix seconds; ``status_code`` a string at the top and an integer in the targets;
``talk_duration`` an integer at the top and a string in the targets; ``ended_reason`` at the top,
``end_reason`` in the targets; ``id`` (not ``cdr_id``) in the targets; ``destiantion`` (sic) in
the target events; ``"None"`` as an unknown reason; ``call_cdr`` with the table's ``direction``
words (``ext``/``in``), every other event with ``internal``/``inbound``. No ``cost`` (billing is
off, as in the example) and no ``time`` on ``call_cdr`` (the example has none).

The sequence, all under the session id the action URLs got (the fake's choice: whether a real
PBX's CDR ``session_id`` equals the action URLs' is unverified): ``call_start``;
``call_update_info`` when the call is forwarded; for the forward's target ``cdr_target_add``,
``_ringing`` (unless it is busy or offline), then ``_answer`` and ``_end``, or ``_noanswer``, or
``_fail``; ``call_cdr``. Extension events (``extension_call``, the WebSocket feed's shape) follow
the target: ``RINGING``, ``ON_CALL`` when it answers, ``""`` when it is free again. Receptionist
legs are in ``call_targets`` (as in the example) but send no target events. Each event's
``time`` is when it happened in the call's simulated timeline.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from ivrhooks.events import EventKind
from ivrhooks.fakepbx.webhooks.outcome import CallOutcome, Leg

__all__ = ["CallFacts", "Payload", "call_events", "extension_id", "extension_message"]

Payload = tuple[EventKind, dict[str, Any]]
"""An event to send: which URL it goes to, and its body."""


def _snowflake() -> str:
    return str(secrets.randbits(59) | 1 << 59)


def extension_id(tenant_id: str, number: str) -> str:
    """A stable id for an extension of the fake's tenant (PortSIP's are snowflakes)."""
    digest = hashlib.sha256(f"{tenant_id}:{number}".encode()).digest()
    return str(int.from_bytes(digest[:7]) | 1 << 59)


@dataclass(frozen=True)
class CallFacts:
    """What the fake knows of a call when it ends."""

    session_id: str
    caller: str
    caller_name: str
    receptionist_name: str
    tenant_id: str
    tenant_name: str
    domain: str

    @property
    def internal(self) -> bool:
        # The fake's rule: a caller of up to 6 digits is one of the tenant's extensions; any
        # other number came in through a trunk, dialling the receptionist as its DID.
        return self.caller.isdigit() and len(self.caller) <= 6


def _uri(number: str, domain: str) -> str:
    return f"sip:{number}@{domain}"


def extension_message(
    event_type: str, *, tenant_id: str, domain: str, number: str, at: int, **fields: Any
) -> Payload:
    """An extension event of the WebSocket feed's shape (``extension_call``...)."""
    body = {
        "event_type": event_type,
        "extension": _uri(number, domain),
        **fields,
        "tenant_id": tenant_id,
        "extension_id": extension_id(tenant_id, number),
        "time": str(at),
    }
    return "extension", body


def _target_json(leg: Leg, facts: CallFacts, cdr_id: str, did: str) -> dict[str, Any]:
    return {
        "answered_time": str(leg.answered or 0),
        "call_type": "normal_call",
        "callee": leg.number,
        "caller": facts.caller,
        "destination": _uri(leg.number, facts.domain),
        "did": did,
        "direction": "internal" if facts.internal else "inbound",
        "end_reason": leg.end_reason,
        "ended_time": str(leg.ended),
        "id": cdr_id,
        "outbound_caller_id": "",
        "ring_duration": str(leg.ring_duration),
        "ring_time": str(leg.start),
        "start_time": str(leg.start),
        "status": leg.status,
        "status_code": leg.status_code,
        "talk_duration": str(leg.talk_duration),
        "trunk_name": "" if facts.internal else "fake-trunk",
    }


def _target_steps(leg: Leg) -> list[tuple[str, int, str | None]]:
    """The target's events: its step, when, and the extension's call status then (if it
    changes: a busy extension is in a call already, an offline one is not registered)."""
    steps: list[tuple[str, int, str | None]] = [("cdr_target_add", leg.start, None)]
    if leg.answering in ("answer", "noanswer"):
        steps.append(("cdr_target_ringing", leg.start, "RINGING"))
    if leg.answering == "answer":
        assert leg.answered is not None
        steps.append(("cdr_target_answer", leg.answered, "ON_CALL"))
        steps.append(("cdr_target_end", leg.ended, ""))
    elif leg.answering == "noanswer":
        steps.append(("cdr_target_noanswer", leg.ended, ""))
    else:
        steps.append(("cdr_target_fail", leg.ended, None))
    return steps


def call_events(facts: CallFacts, outcome: CallOutcome) -> list[Payload]:
    """Every event the call sends, in the order a PBX would send them."""
    legs = outcome.legs
    first, last = legs[0], legs[-1]
    cdr_id, call_id = _snowflake(), secrets.token_urlsafe(16)  # one SIP Call-ID per call
    did = "" if facts.internal else first.number
    common = {
        "session_id": facts.session_id,
        "tenant_id": facts.tenant_id,
        "direction": "internal" if facts.internal else "inbound",
        "did": did,
        "outbound_caller_id": "",
        "cdr_id": cdr_id,
    }
    names = {"caller_display_name": facts.caller_name or facts.caller, "caller": facts.caller}
    timeline: list[tuple[int, Payload]] = [
        (
            first.start,
            (
                "cdr",
                {
                    "event_type": "call_start",
                    "time": str(first.start),
                    **common,
                    "call_id": call_id,
                    **names,
                    "callee_display_name": facts.receptionist_name,
                    "callee": first.number,
                },
            ),
        )
    ]
    if len(legs) > 1:
        update = {"event_type": "call_update_info", "time": str(last.start), **common, **names}
        update.update(callee_display_name=last.number, callee=last.number)
        timeline.append((last.start, ("cdr", update)))
    if not last.receptionist:
        for step, at, call_status in _target_steps(last):
            body = {"event_type": step, "time": str(at), **common}
            body.update(destiantion=_uri(last.number, facts.domain), caller=facts.caller)
            timeline.append((at, ("cdr", body)))
            if call_status is not None:
                message = extension_message(
                    "extension_call",
                    tenant_id=facts.tenant_id,
                    domain=facts.domain,
                    number=last.number,
                    at=at,
                    call_status=call_status,
                )
                timeline.append((at, message))
    timeline.append((last.ended, ("cdr", _cdr(facts, outcome, common, call_id))))
    timeline.sort(key=lambda item: item[0])  # stable: same-second events keep their order
    return [payload for _, payload in timeline]


def _cdr(
    facts: CallFacts, outcome: CallOutcome, common: dict[str, Any], call_id: str
) -> dict[str, Any]:
    legs, did = outcome.legs, common["did"]
    answered = [leg.answered for leg in legs if leg.answered is not None]
    return {
        "answered_time": str(answered[0] if answered else 0),
        "call_id": call_id,
        "call_status": outcome.status,
        "call_targets": [_target_json(leg, facts, common["cdr_id"], did) for leg in legs],
        "callee": legs[0].number,
        "callee_domain": facts.domain,
        "caller": facts.caller,
        "caller_display_name": facts.caller_name or facts.caller,
        "caller_domain": facts.domain if facts.internal else "127.0.0.1",
        "cdr_id": common["cdr_id"],
        "did": did,
        "direction": "ext" if facts.internal else "in",  # the call_cdr table's words
        "ended_reason": outcome.ended_reason,
        "ended_time": str(legs[-1].ended),
        "event_type": "call_cdr",
        "outbound_caller_id": "",
        "ring_duration": str(legs[0].ring_duration),
        "ring_time": str(legs[0].start),
        "session_id": facts.session_id,
        "start_time": str(legs[0].start),
        "status_code": str(outcome.status_code),
        "talk_duration": sum(leg.talk_duration for leg in legs),
        "tenant_id": facts.tenant_id,
        "tenant_name": facts.tenant_name,
        "trunk_name": "" if facts.internal else "fake-trunk",
        "user_data": "",
    }
