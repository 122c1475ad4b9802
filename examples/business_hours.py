"""Different routing outside office hours, in the office's own time zone.

Keys 1 (sales) and 2 (support) reach people during office hours (Mon-Fri 09:00-17:00 in
``OFFICE_TZ``, default Europe/Berlin, holidays excluded); outside them, sales goes to voicemail
and support to the on-call engineer. ::

    ivrhooks run examples/business_hours.py
    ivrhooks call --to 8000 --caller 101 --digits 2
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, date, datetime, time

from business_hours_rules import OfficeHours

from ivrhooks import ActionRequest, IVRHooks, call

OFFICE = OfficeHours(
    tz=os.environ.get("OFFICE_TZ", "Europe/Berlin"),
    open=time(9),
    close=time(17),
    holidays={date(2026, 12, 25), date(2026, 12, 26), date(2027, 1, 1)},
)

SALES, VOICEMAIL = "2001", "2901"
SUPPORT, ON_CALL = "2002", "2999"


def utc_now() -> datetime:
    return datetime.now(UTC)


#: The clock the handlers read; tests replace it.
clock: Callable[[], datetime] = utc_now

app = IVRHooks(receptionists=["8000"])


@app.dtmf("1")
def sales(req: ActionRequest) -> object:
    return call(SALES if OFFICE.is_open(clock()) else VOICEMAIL)


@app.dtmf("2")
def support(req: ActionRequest) -> object:
    return call(SUPPORT if OFFICE.is_open(clock()) else ON_CALL)
