"""The CDR events: a call starts, its information changes, its targets ring and answer, it ends.

Field by field from PortSIP's event reference
(``development-portsip/webhook-notifications/event-reference.md``, knowledge base commit
``2da3336``), with its irregularities read both ways: numbers as strings or integers,
``ended_reason``/``end_reason``, ``destiantion`` (sic)/``destination``, ``cdr_id``/``id``,
``"None"`` as "no reason", and the two ``direction`` vocabularies. A field that is missing or
does not parse is ``None``; ``raw`` keeps the body.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from ivrhooks.events.base import Common, RecordedDecision, common_fields
from ivrhooks.events.values import (
    Direction,
    first,
    integer,
    items,
    number,
    reason,
    sip_user,
    text,
    timestamp,
    to_direction,
)

__all__ = [
    "CALL_STATUSES",
    "TARGET_EVENTS",
    "CallCDR",
    "CallStart",
    "CallStatus",
    "CallTarget",
    "CallUpdateInfo",
    "TargetEvent",
    "TargetStatus",
    "call_cdr",
    "call_start",
    "call_update_info",
    "target_event",
]

CallStatus = Literal["noanswer", "fail", "answered"]
"""``call_cdr``'s ``call_status`` (a call target's ``status`` uses the same words)."""
CALL_STATUSES: Final[tuple[str, ...]] = ("noanswer", "fail", "answered")

TargetStatus = Literal["add", "ringing", "answer", "noanswer", "fail", "end"]
"""A call target event's step: the suffix of its ``cdr_target_*`` type."""

#: The six call target event types, each with its step.
TARGET_EVENTS: Final[dict[str, TargetStatus]] = {
    "cdr_target_add": "add",
    "cdr_target_ringing": "ringing",
    "cdr_target_answer": "answer",
    "cdr_target_noanswer": "noanswer",
    "cdr_target_fail": "fail",
    "cdr_target_end": "end",
}


def _status(value: Any) -> CallStatus | None:
    said = text(value)
    found = said.strip().lower() if said else None
    if found == "answer":  # the step's word for the status's
        return "answered"
    if found in ("noanswer", "fail", "answered"):
        return found  # type: ignore[return-value]  # one of the three literals
    return None


@dataclass(frozen=True, kw_only=True)
class _CDRCommon(Common):
    """Every CDR event has the call's CDR id (where sent), and the decisions attached to it."""

    cdr_id: str | None = None
    caller: str | None = None
    decisions: tuple[RecordedDecision, ...] = ()
    """The routing decisions this app made for the call: filled in by the receiving side
    (``dataclasses.replace``), never by parsing."""


@dataclass(frozen=True, kw_only=True)
class CallUpdateInfo(_CDRCommon):
    """``call_update_info``: "call information is updated" (names and numbers)."""

    caller_display_name: str | None = None
    callee: str | None = None
    callee_display_name: str | None = None


@dataclass(frozen=True, kw_only=True)
class CallStart(CallUpdateInfo):
    """``call_start``: a call starts. ``user_data`` is sent for calls made through the REST API;
    ``call_id`` is the SIP Call-ID of the INVITE."""

    call_id: str | None = None
    user_data: str | None = None


@dataclass(frozen=True, kw_only=True)
class TargetEvent(_CDRCommon):
    """``cdr_target_*``: one call target (a registered device or leg receiving an INVITE) was
    added, rings, answered, did not answer, failed or ended. ``target_status`` is the step (the
    body's ``target_status`` if it has one, else the type's suffix); ``destination`` the SIP URI
    (sent as ``destiantion``, sic); ``target`` the number in it."""

    target_status: TargetStatus | None = None
    destination: str | None = None
    target: str | None = None


@dataclass(frozen=True, kw_only=True)
class CallTarget:
    """One entry of ``call_cdr``'s ``call_targets``: a leg of the call. ``cdr_id`` is sent as
    ``id`` in PortSIP's example; ``status`` is ``answered`` or ``noanswer`` (``fail`` read too);
    ``end_reason`` ``None`` for "unknown"; ``target`` the number in ``destination``."""

    raw: Mapping[str, Any] = field(repr=False, compare=False)
    call_type: str | None = None
    cdr_id: str | None = None
    caller: str | None = None
    callee: str | None = None
    destination: str | None = None
    target: str | None = None
    status: CallStatus | None = None
    status_code: int | None = None
    end_reason: str | None = None
    start_time: float | None = None
    ring_time: float | None = None
    answered_time: float | None = None
    ended_time: float | None = None
    ring_duration: float | None = None
    talk_duration: float | None = None
    trunk_name: str | None = None
    cost: float | None = None
    direction: Direction | None = None
    did: str | None = None
    outbound_caller_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class CallCDR(_CDRCommon):
    """``call_cdr``: the call ended (hung up or failed); everything about it, its targets in
    ``targets``. Times in Unix seconds, durations in seconds; ``ended_reason`` is sent as
    ``ended_reason`` (top, example) or ``end_reason`` (table); ``None`` when "unknown".
    PortSIP's example has no ``time``: ``time`` is then ``ended_time``."""

    call_id: str | None = None
    caller_display_name: str | None = None
    caller_domain: str | None = None
    callee: str | None = None
    callee_domain: str | None = None
    call_status: CallStatus | None = None
    status_code: int | None = None
    ended_reason: str | None = None
    start_time: float | None = None
    ring_time: float | None = None
    answered_time: float | None = None
    ended_time: float | None = None
    ring_duration: float | None = None
    talk_duration: float | None = None
    trunk_name: str | None = None
    tenant_name: str | None = None
    user_data: str | None = None
    targets: tuple[CallTarget, ...] = ()


def _cdr_common(body: Mapping[str, Any], event_type: str) -> dict[str, Any]:
    return {
        **common_fields(body, event_type),
        "cdr_id": text(first(body, "cdr_id", "id")),
        "caller": text(body.get("caller")),
    }


def _names(body: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "caller_display_name": text(body.get("caller_display_name")),
        "callee": text(body.get("callee")),
        "callee_display_name": text(body.get("callee_display_name")),
    }


def call_start(body: Mapping[str, Any], event_type: str) -> CallStart:
    return CallStart(
        **_cdr_common(body, event_type),
        **_names(body),
        call_id=text(body.get("call_id")),
        user_data=text(body.get("user_data")),
    )


def call_update_info(body: Mapping[str, Any], event_type: str) -> CallUpdateInfo:
    return CallUpdateInfo(**_cdr_common(body, event_type), **_names(body))


def target_event(body: Mapping[str, Any], event_type: str) -> TargetEvent:
    destination = text(first(body, "destiantion", "destination"))
    step = text(body.get("target_status"))
    said = step.strip().lower() if step else None
    status = said if said in TARGET_EVENTS.values() else TARGET_EVENTS.get(event_type)
    return TargetEvent(
        **_cdr_common(body, event_type),
        target_status=status,  # type: ignore[arg-type]  # one of TARGET_EVENTS' values
        destination=destination,
        target=sip_user(destination),
    )


def _times(body: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "start_time": timestamp(body.get("start_time")),
        "ring_time": timestamp(body.get("ring_time")),
        "answered_time": timestamp(body.get("answered_time")),
        "ended_time": timestamp(body.get("ended_time")),
        "ring_duration": number(body.get("ring_duration")),
        "talk_duration": number(body.get("talk_duration")),
    }


def call_target(body: Mapping[str, Any]) -> CallTarget:
    destination = text(first(body, "destination", "destiantion"))
    return CallTarget(
        raw=dict(body),
        call_type=text(body.get("call_type")),
        cdr_id=text(first(body, "cdr_id", "id")),
        caller=text(body.get("caller")),
        callee=text(body.get("callee")),
        destination=destination,
        target=sip_user(destination) or text(body.get("callee")),
        status=_status(body.get("status")),
        status_code=integer(body.get("status_code")),
        end_reason=reason(first(body, "end_reason", "ended_reason")),
        **_times(body),
        trunk_name=text(body.get("trunk_name")),
        cost=number(body.get("cost")),
        direction=to_direction(body.get("direction")),
        did=text(body.get("did")),
        outbound_caller_id=text(body.get("outbound_caller_id")),
    )


def call_cdr(body: Mapping[str, Any], event_type: str) -> CallCDR:
    fields = _cdr_common(body, event_type)
    times = _times(body)
    if fields["time"] is None:
        fields["time"] = times["ended_time"]
    return CallCDR(
        **fields,
        call_id=text(body.get("call_id")),
        caller_display_name=text(body.get("caller_display_name")),
        caller_domain=text(body.get("caller_domain")),
        callee=text(body.get("callee")),
        callee_domain=text(body.get("callee_domain")),
        call_status=_status(body.get("call_status")),
        status_code=integer(body.get("status_code")),
        ended_reason=reason(first(body, "ended_reason", "end_reason")),
        **times,
        trunk_name=text(body.get("trunk_name")),
        tenant_name=text(body.get("tenant_name")),
        user_data=text(body.get("user_data")),
        targets=tuple(call_target(item) for item in items(body.get("call_targets"))),
    )
