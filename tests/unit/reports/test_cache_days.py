"""Which UTC days a cached report depends on."""

from datetime import UTC, datetime, timedelta, timezone

from webapp.reports.cache import ALL, MAX_DAYS, covered_days

KOLKATA = timezone(timedelta(hours=5, minutes=30))


def test_a_range_covers_the_utc_days_it_touches_its_end_excluded():
    start = datetime(2026, 3, 28, 23, 0, tzinfo=UTC)
    assert covered_days([(start, start + timedelta(hours=1))]) == ["2026-03-28"]
    assert covered_days([(start, start + timedelta(hours=1, microseconds=1))]) == [
        "2026-03-28", "2026-03-29"]


def test_a_day_in_another_zone_spans_two_utc_days():
    start = datetime(2026, 3, 29, tzinfo=KOLKATA)  # 2026-03-28 18:30 UTC
    assert covered_days([(start, start + timedelta(days=1))]) == ["2026-03-28", "2026-03-29"]


def test_several_ranges_cover_their_union_once():
    day = datetime(2026, 1, 10, tzinfo=UTC)
    ranges = [(day - timedelta(days=2), day), (day, day + timedelta(days=2))]
    assert covered_days(ranges) == [f"2026-01-{n:02d}" for n in range(8, 12)]


def test_an_open_or_very_long_range_depends_on_every_commit():
    day = datetime(2026, 1, 10, tzinfo=UTC)
    assert covered_days([(None, day)]) == [ALL]
    assert covered_days([(day, None)]) == [ALL]
    assert covered_days([(day, day + timedelta(days=MAX_DAYS + 1))]) == [ALL]
    assert len(covered_days([(day, day + timedelta(days=MAX_DAYS))])) == MAX_DAYS
