"""Date ranges in a project's time zone: local days across DST and odd offsets."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from webapp.reads.ranges import (
    EARLIEST,
    LATEST,
    day_start,
    local_date,
    parse_range,
    previous,
)
from webapp.reads.span import BUCKETS, bucket_keys, label, whole_hours
from webapp.reports import engine
from webapp.reports.definition import Scope
from webapp.reports.engine import instant_us
from webapp.tenancy.values import python_zones, zone

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def span(start: str | None, end: str | None, time_zone: str) -> tuple[datetime, datetime]:
    problems: list[str] = []
    lower, upper = parse_range(start, end, time_zone, NOW, problems)
    assert problems == []
    return lower, upper


@pytest.mark.parametrize("time_zone, day, hours", [
    ("America/New_York", "2026-03-08", 23), ("America/New_York", "2026-11-01", 25),
    ("Europe/Berlin", "2026-03-29", 23), ("Europe/Berlin", "2026-10-25", 25),
    ("Australia/Lord_Howe", "2026-04-05", 24.5), ("Australia/Lord_Howe", "2026-10-04", 23.5),
    ("Asia/Kolkata", "2026-03-08", 24), ("Asia/Kathmandu", "2026-03-08", 24),
])
def test_a_local_day_lasts_as_long_as_the_zone_says(time_zone, day, hours):
    lower, upper = span(day, day, time_zone)
    assert upper - lower == timedelta(hours=hours)
    assert local_date(lower, time_zone).isoformat() == day
    assert local_date(upper - timedelta(microseconds=1), time_zone).isoformat() == day


def test_odd_offsets_start_days_on_their_own_minute():
    assert span("2026-03-08", "2026-03-08", "Asia/Kolkata")[0] == \
        datetime(2026, 3, 7, 18, 30, tzinfo=UTC)
    assert span("2026-03-08", "2026-03-08", "Asia/Kathmandu")[0] == \
        datetime(2026, 3, 7, 18, 15, tzinfo=UTC)


def test_instants_are_taken_as_given_and_exclusive_at_the_end():
    lower, upper = span("2026-03-08T09:30:00Z", "2026-03-08T11:00:00+01:00", "Asia/Kolkata")
    assert (lower, upper) == (datetime(2026, 3, 8, 9, 30, tzinfo=UTC),
                              datetime(2026, 3, 8, 10, 0, tzinfo=UTC))
    # without an offset, an instant is read in the project's zone
    assert span("2026-03-08T06:00", "2026-03-08T07:00", "Asia/Kathmandu")[0] == \
        datetime(2026, 3, 8, 0, 15, tzinfo=UTC)


def test_default_is_the_last_thirty_local_days_today_included():
    lower, upper = span(None, None, "Asia/Kathmandu")
    assert local_date(lower, "Asia/Kathmandu").isoformat() == "2026-10-29"
    assert upper == day_start(local_date(NOW, "Asia/Kathmandu") + timedelta(days=1),
                              "Asia/Kathmandu")


def test_every_problem_is_listed():
    problems: list[str] = []
    parse_range("yesterday", "2026-13-01", "UTC", NOW, problems)
    assert len(problems) == 2 and '"from"' in problems[0] and '"to"' in problems[1]
    problems = []
    parse_range("2026-03-09", "2026-03-08", "UTC", NOW, problems)
    assert problems == ['"to" must be after "from"']
    with pytest.raises(ValueError):
        zone("Mars/Olympus_Mons")


@given(day=st.dates(datetime(2000, 1, 1).date(), datetime(2037, 12, 31).date()),
       time_zone=st.sampled_from(["Australia/Lord_Howe", "America/Santiago", "Asia/Kathmandu",
                                  "Europe/London", "Pacific/Chatham"]))
def test_consecutive_days_tile_time(day, time_zone):
    start = day_start(day, time_zone)
    end = day_start(day + timedelta(days=1), time_zone)
    assert timedelta(hours=22) <= end - start <= timedelta(hours=26)
    assert local_date(start, time_zone) == day


# ---- the ends of the calendar -----------------------------------------------------------------

EDGE_ZONES = ["UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago", "Etc/GMT-14", "Etc/GMT+12",
              "Asia/Manila", "America/Metlakatla", "Australia/Lord_Howe", "Asia/Kathmandu"]
EDGE_DATES = st.one_of(st.dates(date(1, 1, 1), date(1, 3, 1)),
                       st.dates(date(9999, 10, 1), date(9999, 12, 31)))


@st.composite
def edge_bounds(draw):
    """A `from` or `to` near year 1 or 9999: a date, an instant with an offset, or one without."""
    day = draw(EDGE_DATES)
    kind = draw(st.sampled_from(["date", "offset", "local"]))
    if kind == "date":
        return day.isoformat()
    moment = datetime.combine(day, time(draw(st.integers(0, 23)), draw(st.integers(0, 59))))
    if kind == "local":
        return moment.isoformat()
    minutes = draw(st.integers(-14 * 60, 14 * 60))
    return moment.isoformat() + f"{'+' if minutes >= 0 else '-'}{abs(minutes) // 60:02d}:" \
        f"{abs(minutes) % 60:02d}"


@settings(max_examples=300)
@given(start=st.none() | edge_bounds(), end=st.none() | edge_bounds(),
       time_zone=st.sampled_from(EDGE_ZONES))
def test_a_range_near_the_ends_of_the_calendar_is_refused_or_computes(start, end, time_zone):
    """Never an OverflowError: either problems naming the supported range, or a range whose
    every derived period, bucket and local day exists."""
    problems: list[str] = []
    lower, upper = parse_range(start, end, time_zone, NOW, problems)
    if problems:
        return
    assert EARLIEST <= lower < upper <= LATEST
    scope = Scope(1, lower, upper, time_zone)
    before = scope.previous()
    assert before.end == lower and EARLIEST <= before.start <= lower
    assert before.end - before.start <= upper - lower
    for first, last in ((lower, upper), (before.start, before.end)):
        for bucket in BUCKETS:
            keys = bucket_keys(bucket, time_zone, first, last)
            for key in keys[:3] + keys[-3:]:
                label(key, bucket, time_zone)
        whole_hours(time_zone, first, last)
        if first < last:  # the local days of the range, as retention counts them
            day_one = local_date(first, time_zone)
            day_last = local_date(last - timedelta(microseconds=1), time_zone)
            days, _ = engine.local_days(np.array([instant_us(first)]), day_one, day_last,
                                        time_zone)
            assert days.tolist() == [0]


@settings(max_examples=300)
@given(first=st.one_of(st.dates(date(1, 1, 3), date(1, 3, 1)),
                       st.dates(date(9999, 10, 1), date(9999, 12, 28))),
       length=st.integers(0, 60), time_zone=st.sampled_from(sorted(python_zones())))
def test_dates_from_the_third_of_year_one_to_the_28th_of_9999_are_taken_in_every_zone(
        first, length, time_zone):
    last = first + timedelta(days=min(length, (date(9999, 12, 28) - first).days))
    problems: list[str] = []
    lower, upper = parse_range(first.isoformat(), last.isoformat(), time_zone, NOW, problems)
    assert problems == []
    assert (local_date(lower, time_zone), local_date(upper, time_zone)) == \
        (first, last + timedelta(days=1))


@pytest.mark.parametrize("start, end", [
    ("0001-01-01", "0001-01-31"), ("9999-12-01", "9999-12-31"), ("9999-12-30", "9999-12-31"),
    ("0001-01-01T00:00:00+05:00", "0001-01-05"), ("9999-12-01", "9999-12-31T23:00:00-05:00"),
])
@pytest.mark.parametrize("time_zone", ["UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago"])
def test_a_range_outside_the_supported_one_names_it(start, end, time_zone):
    problems: list[str] = []
    parse_range(start, end, time_zone, NOW, problems)
    assert problems and all("0001-01-02T00:00:00Z to 9999-12-30T00:00:00Z" in problem
                            for problem in problems)


def test_the_period_before_a_range_is_cut_where_the_supported_range_starts():
    start = EARLIEST + timedelta(days=3)
    assert previous(start, start + timedelta(days=10)) == (EARLIEST, start)
    assert previous(EARLIEST, EARLIEST + timedelta(days=1)) == (EARLIEST, EARLIEST)
    middle = datetime(2026, 3, 8, tzinfo=UTC)
    assert previous(middle, middle + timedelta(days=10)) == (middle - timedelta(days=10), middle)
