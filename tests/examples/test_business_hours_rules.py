"""Office hours across weekends, holidays, the open/close edges and both DST changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from business_hours_rules import OfficeHours

BERLIN = ZoneInfo("Europe/Berlin")
ALL_WEEK = range(7)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[arg-type, misc]


def berlin(*args: int, fold: int = 0) -> datetime:
    return datetime(*args, tzinfo=BERLIN, fold=fold)  # type: ignore[arg-type, misc]


OFFICE = OfficeHours(holidays={date(2024, 12, 25), date(2024, 12, 26)})


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (berlin(2024, 6, 3, 8, 59, 59, 999999), False),
        (berlin(2024, 6, 3, 9, 0), True),
        (berlin(2024, 6, 3, 12, 0), True),
        (berlin(2024, 6, 3, 16, 59, 59, 999999), True),
        (berlin(2024, 6, 3, 17, 0), False),
        (berlin(2024, 6, 7, 16, 0), True),
        (berlin(2024, 6, 8, 12, 0), False),
        (berlin(2024, 6, 9, 12, 0), False),
    ],
    ids=[
        "just-before-open",
        "at-open",
        "midday",
        "just-before-close",
        "at-close",
        "friday",
        "saturday",
        "sunday",
    ],
)
def test_opening_edges_and_weekends(now: datetime, expected: bool) -> None:
    assert OFFICE.is_open(now) is expected


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (berlin(2024, 12, 24, 10, 0), True),
        (berlin(2024, 12, 25, 10, 0), False),
        (berlin(2024, 12, 26, 10, 0), False),
        (berlin(2024, 12, 27, 10, 0), True),
        # 23:30 UTC on the 24th is already the 25th in Berlin: the holiday is a local date.
        (utc(2024, 12, 24, 23, 30), False),
        # 08:30 UTC on the 25th is 09:30 in Berlin, a holiday too.
        (utc(2024, 12, 25, 8, 30), False),
    ],
    ids=["christmas-eve", "christmas", "boxing-day", "after", "utc-late-eve", "utc-morning"],
)
def test_holidays_are_local_dates(now: datetime, expected: bool) -> None:
    assert OFFICE.is_open(now) is expected


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        # Winter (CET, UTC+1): 09:00 local is 08:00 UTC.
        (utc(2024, 3, 29, 7, 30), False),
        (utc(2024, 3, 29, 8, 0), True),
        (utc(2024, 3, 29, 15, 59), True),
        (utc(2024, 3, 29, 16, 0), False),
        # After the spring change (CEST, UTC+2): 09:00 local is 07:00 UTC.
        (utc(2024, 4, 1, 7, 0), True),
        (utc(2024, 4, 1, 6, 59), False),
        (utc(2024, 4, 1, 15, 0), False),
        # After the autumn change, back to UTC+1.
        (utc(2024, 10, 25, 7, 0), True),
        (utc(2024, 10, 28, 7, 0), False),
        (utc(2024, 10, 28, 8, 0), True),
    ],
    ids=[
        "cet-0830",
        "cet-0900",
        "cet-1659",
        "cet-1700",
        "cest-0900",
        "cest-0859",
        "cest-1700",
        "cest-friday-before-autumn",
        "cet-monday-0800",
        "cet-monday-0900",
    ],
)
def test_opening_follows_the_local_wall_clock_across_dst(now: datetime, expected: bool) -> None:
    assert OFFICE.is_open(now) is expected


def test_hours_inside_the_skipped_spring_hour_never_open() -> None:
    # 2024-03-31: Berlin jumps from 02:00 CET to 03:00 CEST; 02:00-03:00 does not exist.
    night = OfficeHours(open=time(2), close=time(3), days=ALL_WEEK)
    instants = [utc(2024, 3, 31, 0, 0) + timedelta(minutes=m) for m in range(0, 180, 5)]
    assert not any(night.is_open(t) for t in instants)
    # The same window the day before is open for a full hour.
    day_before = [t - timedelta(days=1) for t in instants]
    assert sum(night.is_open(t) for t in day_before) == 12


def test_hours_inside_the_repeated_autumn_hour_are_open_twice() -> None:
    # 2024-10-27: Berlin goes from 03:00 CEST back to 02:00 CET; 02:00-03:00 happens twice.
    night = OfficeHours(open=time(2), close=time(3), days=ALL_WEEK)
    assert night.is_open(utc(2024, 10, 27, 0, 30))  # 02:30 CEST
    assert night.is_open(utc(2024, 10, 27, 1, 30))  # 02:30 CET
    assert not night.is_open(utc(2024, 10, 27, 2, 0))  # 03:00 CET
    assert night.is_open(berlin(2024, 10, 27, 2, 30, fold=0))
    assert night.is_open(berlin(2024, 10, 27, 2, 30, fold=1))
    instants = [utc(2024, 10, 26, 23, 0) + timedelta(minutes=m) for m in range(0, 240, 5)]
    assert sum(night.is_open(t) for t in instants) == 24  # two hours of five-minute steps


def test_any_aware_zone_is_converted_to_the_office_zone() -> None:
    new_york = ZoneInfo("America/New_York")
    # 03:30 in New York on a June Monday is 09:30 in Berlin.
    assert OFFICE.is_open(datetime(2024, 6, 3, 3, 30, tzinfo=new_york))
    assert not OFFICE.is_open(datetime(2024, 6, 3, 11, 30, tzinfo=new_york))
    fixed = timezone(timedelta(hours=9))
    assert OFFICE.is_open(datetime(2024, 6, 3, 16, 30, tzinfo=fixed))  # 09:30 Berlin


def test_other_zones_and_days() -> None:
    tokyo_weekend = OfficeHours(tz="Asia/Tokyo", open=time(10), close=time(14), days={5, 6})
    assert tokyo_weekend.is_open(utc(2024, 6, 8, 2, 0))  # Saturday 11:00 JST
    assert not tokyo_weekend.is_open(utc(2024, 6, 10, 2, 0))  # Monday


def test_a_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="now must be timezone-aware"):
        OFFICE.is_open(datetime(2024, 6, 3, 12, 0))


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"tz": "Mars/Olympus"}, ValueError, "tz 'Mars/Olympus' is not a known IANA time zone"),
        ({"tz": "../etc/passwd"}, ValueError, "tz '../etc/passwd'"),
        ({"open": time(17), "close": time(9)}, ValueError, r"open \(17:00:00\) must be before"),
        ({"open": time(9), "close": time(9)}, ValueError, "must be before close"),
        ({"open": "09:00"}, TypeError, "open must be a datetime.time"),
        ({"close": time(17, tzinfo=UTC)}, ValueError, "close must be a wall-clock time"),
        ({"days": {0, 7}}, ValueError, r"days must be weekday numbers .* got \[7\]"),
        ({"days": {True}}, ValueError, "days must be weekday numbers"),
        ({"holidays": {datetime(2024, 12, 25)}}, TypeError, "holidays must hold datetime.date"),
        ({"holidays": {"2024-12-25"}}, TypeError, "holidays must hold datetime.date"),
    ],
    ids=[
        "unknown-tz",
        "path-tz",
        "close-before-open",
        "empty-window",
        "open-str",
        "aware-close",
        "day-7",
        "day-bool",
        "holiday-datetime",
        "holiday-str",
    ],
)
def test_bad_rules_fail_at_construction_naming_the_argument(
    kwargs: dict[str, object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        OfficeHours(**kwargs)  # type: ignore[arg-type]


def test_defaults_are_berlin_nine_to_five_on_weekdays() -> None:
    office = OfficeHours()
    assert (office.tz, office.open, office.close) == ("Europe/Berlin", time(9), time(17))
    assert office.days == frozenset(range(5))
    assert office.holidays == frozenset()
    assert "Europe/Berlin" in repr(office)
