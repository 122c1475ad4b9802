"""A receptionist's forward rules and outbound caller ids, as PortSIP's OpenAPI types them.

Read models keep enumerated values (``action``, ``mode``) as plain strings, so a PBX build that
adds an action does not break reading its receptionists.

``POST /ivrs`` and ``POST /ivrs/{id}`` take ``timeout_forward_rule``, ``failure_forward_rule``,
``night_mode_forward_rule``, ``custom_forward_rules`` and ``outbound_caller_ids``, and
``GET /ivrs/{id}`` returns them. Write and read models differ where the published document
does: a custom rule's ``holidays`` is written as holiday ids and read back as holiday objects.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Self

from pydantic import ConfigDict, Field, StringConstraints, model_validator

from ivrhooks.schema.wire import Id, Int32, NonNegativeInt32, ReadModel, WriteModel

__all__ = [
    "CustomForwardRule",
    "CustomForwardRuleRead",
    "DayHours",
    "DayHoursRead",
    "DtmfForwardAction",
    "DtmfForwardRule",
    "ForwardAction",
    "ForwardRule",
    "ForwardRuleRead",
    "HolidayRead",
    "OfficeHours",
    "OfficeHoursMode",
    "OfficeHoursRead",
    "OutboundCallerId",
    "OutboundCallerIdRead",
    "TimeRange",
    "TimeRangeRead",
    "TimeoutForwardRule",
    "TimeoutForwardRuleRead",
]


class ForwardAction(StrEnum):
    FORWARD_TO_NUMBER = "FORWARD_TO_NUMBER"
    FORWARD_TO_VOICEMAIL = "FORWARD_TO_VOICEMAIL"
    REPEAT = "REPEAT"
    HANGUP = "HANGUP"


class DtmfForwardAction(StrEnum):
    """The actions of a custom (DTMF) rule: the plain ones plus ``DISA``."""

    FORWARD_TO_NUMBER = "FORWARD_TO_NUMBER"
    FORWARD_TO_VOICEMAIL = "FORWARD_TO_VOICEMAIL"
    REPEAT = "REPEAT"
    HANGUP = "HANGUP"
    DISA = "DISA"


class OfficeHoursMode(StrEnum):
    GLOBAL = "GLOBAL"
    CUSTOM = "CUSTOM"


# "HH:MM in 24 hour clock, such as 09:00" (OpenAPI office hours ranges).
_HHMM = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
HHMM = Annotated[str, StringConstraints(pattern=_HHMM.pattern)]
CallerId = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class TimeoutForwardRule(WriteModel):
    """What happens when the caller keys nothing: ``timeout`` seconds, ``repeat_times``."""

    timeout: Int32 | None = None
    repeat_times: NonNegativeInt32 | None = None
    action: ForwardAction | None = None
    number: str | None = None


class ForwardRule(WriteModel):
    """``failure_forward_rule`` and ``night_mode_forward_rule``."""

    action: ForwardAction | None = None
    number: str | None = None


class DtmfForwardRule(WriteModel):
    action: DtmfForwardAction | None = None
    number: str | None = None


class TimeRange(WriteModel):
    """One working period of a day; ``from`` must be earlier than ``to`` (OpenAPI)."""

    model_config = ConfigDict(populate_by_name=True)

    from_: HHMM | None = Field(default=None, alias="from")
    to: HHMM | None = None

    @model_validator(mode="after")
    def _in_order(self) -> Self:
        # Zero-padded HH:MM strings order as times do.
        if self.from_ is not None and self.to is not None and self.from_ >= self.to:
            raise ValueError(f"from: {self.from_} must be earlier than to ({self.to})")
        return self


class DayHours(WriteModel):
    enabled: bool | None = None
    ranges: list[TimeRange] | None = None


class OfficeHours(WriteModel):
    mode: OfficeHoursMode | None = None
    monday: DayHours | None = None
    tuesday: DayHours | None = None
    wednesday: DayHours | None = None
    thursday: DayHours | None = None
    friday: DayHours | None = None
    saturday: DayHours | None = None
    sunday: DayHours | None = None


class CustomForwardRule(WriteModel):
    """A rule for one ``user_input``, by office hours, outside them, and on holidays."""

    user_input: str | None = None
    office_hours: OfficeHours | None = None
    office_hours_forward_rule: DtmfForwardRule | None = None
    non_office_hours_forward_rule: DtmfForwardRule | None = None
    holidays: list[Id] | None = None
    holiday_forward_rule: DtmfForwardRule | None = None


class OutboundCallerId(WriteModel):
    provider_id: Id | None = None
    caller_id: CallerId | None = None
    description: Annotated[str, StringConstraints(max_length=1024)] | None = None


class HolidayRead(ReadModel):
    """A holiday as ``GET /ivrs/{id}`` returns it inside a custom rule."""

    id: Id | None = None
    name: str | None = None
    region: str | None = None
    consecutive: bool | None = None
    every_year: bool | None = None
    year_start: int | None = None
    year_end: int | None = None
    month_start: int | None = None
    month_end: int | None = None
    day_start: int | None = None
    day_end: int | None = None
    hour_start: int | None = None
    hour_end: int | None = None
    minute_start: int | None = None
    minute_end: int | None = None


class ForwardRuleRead(ReadModel):
    action: str | None = None
    number: str | None = None


class TimeoutForwardRuleRead(ForwardRuleRead):
    timeout: int | None = None
    repeat_times: int | None = None


class TimeRangeRead(ReadModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: str | None = Field(default=None, alias="from")
    to: str | None = None


class DayHoursRead(ReadModel):
    enabled: bool | None = None
    ranges: list[TimeRangeRead] = Field(default_factory=list)


class OfficeHoursRead(ReadModel):
    mode: str | None = None
    monday: DayHoursRead | None = None
    tuesday: DayHoursRead | None = None
    wednesday: DayHoursRead | None = None
    thursday: DayHoursRead | None = None
    friday: DayHoursRead | None = None
    saturday: DayHoursRead | None = None
    sunday: DayHoursRead | None = None


class CustomForwardRuleRead(ReadModel):
    user_input: str | None = None
    office_hours: OfficeHoursRead | None = None
    office_hours_forward_rule: ForwardRuleRead | None = None
    non_office_hours_forward_rule: ForwardRuleRead | None = None
    holidays: list[HolidayRead] = Field(default_factory=list)
    holiday_forward_rule: ForwardRuleRead | None = None


class OutboundCallerIdRead(ReadModel):
    provider_id: Id | None = None
    caller_id: str | None = None
    description: str | None = None
