"""Hourly buckets of a range: each labelled with its own first instant, in zones whose offsets
change by a part of an hour (Australia/Lord_Howe's 30-minute DST) or are not whole hours."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import example, given, settings
from hypothesis import strategies as st

from webapp.models import iso
from webapp.reads.ranges import day_start
from webapp.reads.span import bucket_keys, hour_key, label

ZONES = ["Australia/Lord_Howe", "Asia/Kolkata", "Asia/Kathmandu", "America/St_Johns",
         "Europe/London", "Pacific/Chatham", "UTC"]


def local_hours(start: datetime, end: datetime, zone: str) -> list[datetime]:
    """The first minute of each local hour that [start, end) meets, by zoneinfo alone: minutes
    of the same local date and hour at the same offset are one hour (a repeated hour at
    another offset is another)."""
    tz, starts, seen = ZoneInfo(zone), [], None
    minute = start
    while minute < end:
        local = minute.astimezone(tz)
        hour = (local.date(), local.hour, local.utcoffset())
        if hour != seen:
            starts.append(minute)
            seen = hour
        minute += timedelta(minutes=1)
    return starts


@settings(max_examples=150, deadline=None)
@given(day=st.dates(date(2000, 1, 1), date(2037, 12, 31)), zone=st.sampled_from(ZONES))
@example(day=date(2026, 10, 4), zone="Australia/Lord_Howe")  # 02:00+10:30 -> 02:30+11:00
@example(day=date(2026, 4, 5), zone="Australia/Lord_Howe")  # 02:00+11:00 -> 01:30+10:30
@example(day=date(2026, 3, 29), zone="Europe/London")
@example(day=date(2026, 11, 1), zone="America/St_Johns")
def test_each_hour_is_labelled_with_its_own_start(day, zone):
    start, end = day_start(day, zone), day_start(day + timedelta(days=1), zone)
    keys = bucket_keys("hour", zone, start, end)
    expected = local_hours(start, end, zone)
    labels = [label(key, "hour", zone) for key in keys]
    assert [point["timestamp"] for point in labels] == [iso(moment) for moment in expected]
    assert [point["local"] for point in labels] == [
        moment.astimezone(ZoneInfo(zone)).isoformat(timespec="minutes") for moment in expected]
    # and every minute counts in its own hour: the key of a minute names the hour it is in
    tz = ZoneInfo(zone)
    bounds = [*expected, end]
    for key, first, after in zip(keys, bounds, bounds[1:], strict=False):
        assert hour_key(first, tz) == key
        assert hour_key(after - timedelta(minutes=1), tz) == key


def test_lord_howe_half_hour_changes():
    spring = [label(k, "hour", "Australia/Lord_Howe")
              for k in bucket_keys("hour", "Australia/Lord_Howe",
                                   datetime(2026, 10, 3, 14, 30, tzinfo=UTC),
                                   datetime(2026, 10, 3, 17, 0, tzinfo=UTC))]
    assert spring == [
        {"timestamp": "2026-10-03T14:30:00.000Z", "local": "2026-10-04T01:00+10:30"},
        {"timestamp": "2026-10-03T15:30:00.000Z", "local": "2026-10-04T02:30+11:00"},
        {"timestamp": "2026-10-03T16:00:00.000Z", "local": "2026-10-04T03:00+11:00"}]
    autumn = [label(k, "hour", "Australia/Lord_Howe")
              for k in bucket_keys("hour", "Australia/Lord_Howe",
                                   datetime(2026, 4, 4, 14, 0, tzinfo=UTC),
                                   datetime(2026, 4, 4, 16, 30, tzinfo=UTC))]
    assert autumn == [
        {"timestamp": "2026-04-04T14:00:00.000Z", "local": "2026-04-05T01:00+11:00"},
        {"timestamp": "2026-04-04T15:00:00.000Z", "local": "2026-04-05T01:30+10:30"},
        {"timestamp": "2026-04-04T15:30:00.000Z", "local": "2026-04-05T02:00+10:30"}]
