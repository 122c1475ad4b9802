"""Office hours as a pure, time-zone-aware rule: is the office open at this instant?

Used by the business-hours example app to send callers to the desk while it is staffed and to
voicemail or the night line otherwise. Pure: the caller passes ``now``, so tests can walk across
DST changes without touching a clock.

The rule is evaluated in the office's own time zone, on the wall clock there: an office that
opens at 09:00 opens at 09:00 local time in winter and in summer, whatever UTC says. Opening
hours are the half-open interval ``[open, close)``: open at 09:00:00, closed at 17:00:00.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["WEEKDAYS", "OfficeHours"]

#: Monday to Friday, as ``datetime.weekday()`` numbers them (Monday is 0).
WEEKDAYS = frozenset({0, 1, 2, 3, 4})


class OfficeHours:
    """Opening hours of one office: daily ``open``..``close`` on ``days``, except ``holidays``.

    ``days`` uses ``datetime.weekday()`` numbers (Monday 0 .. Sunday 6); ``holidays`` are local
    calendar dates in ``tz``. Every argument is checked here, so a bad rule fails at startup
    with a message naming the argument, not on the first call.
    """

    __slots__ = ("close", "days", "holidays", "open", "tz", "zone")

    def __init__(
        self,
        tz: str = "Europe/Berlin",
        open: time = time(9),
        close: time = time(17),
        days: Iterable[int] = WEEKDAYS,
        holidays: Iterable[date] = (),
    ) -> None:
        try:
            zone = ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
            raise ValueError(f"tz {tz!r} is not a known IANA time zone") from exc
        for name, value in (("open", open), ("close", close)):
            if not isinstance(value, time):
                raise TypeError(f"{name} must be a datetime.time, got {value!r}")
            if value.tzinfo is not None:
                raise ValueError(f"{name} must be a wall-clock time without tzinfo (tz is {tz!r})")
        if not open < close:
            raise ValueError(
                f"open ({open.isoformat()}) must be before close ({close.isoformat()})"
            )
        day_set = frozenset(days)
        bad_days = sorted(
            (d for d in day_set if isinstance(d, bool) or d not in range(7)), key=repr
        )
        if bad_days:
            raise ValueError(f"days must be weekday numbers 0 (Monday) to 6, got {bad_days!r}")
        holiday_set = frozenset(holidays)
        for day in holiday_set:
            # datetime is a date subclass; a datetime here is almost surely a mistake.
            if not isinstance(day, date) or isinstance(day, datetime):
                raise TypeError(f"holidays must hold datetime.date values, got {day!r}")
        self.tz = tz
        self.zone = zone
        self.open = open
        self.close = close
        self.days = day_set
        self.holidays = holiday_set

    def __repr__(self) -> str:
        return (
            f"OfficeHours(tz={self.tz!r}, open={self.open!r}, close={self.close!r}, "
            f"days={sorted(self.days)!r}, holidays={sorted(self.holidays)!r})"
        )

    def local(self, now: datetime) -> datetime:
        """``now`` on the office's wall clock; naive datetimes are refused."""
        if now.tzinfo is None or now.utcoffset() is None:
            # A naive datetime could mean UTC, server-local or office-local time: guessing
            # wrong shifts the office by hours, twice a year differently. Refuse instead.
            raise ValueError(
                f"now must be timezone-aware (e.g. datetime.now(UTC)), got naive {now!r}"
            )
        return now.astimezone(self.zone)

    def is_open(self, now: datetime) -> bool:
        """Whether the office is open at the instant ``now`` (an aware datetime)."""
        local = self.local(now)
        if local.date() in self.holidays or local.weekday() not in self.days:
            return False
        return self.open <= local.time() < self.close
