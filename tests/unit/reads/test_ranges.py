"""Date ranges in a project's time zone: local days across DST and odd offsets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from webapp.reads.ranges import day_start, local_date, parse_range, zone

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
