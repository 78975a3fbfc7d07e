"""Which counts (UTC days, months, years, centuries) a cached report depends on."""

from datetime import UTC, date, datetime, timedelta, timezone

from webapp.reports.cache import covered

KOLKATA = timezone(timedelta(hours=5, minutes=30))


def days_of(field: str) -> set[date]:
    """The days a count's field stands for."""
    if len(field) == 10:
        return {date.fromisoformat(field)}
    if len(field) == 2:  # a century; year 0 is not in the calendar
        first, last = date(max(int(field) * 100, 1), 1, 1), date(int(field) * 100 + 99, 12, 31)
    elif len(field) == 4:
        first, last = date(int(field), 1, 1), date(int(field), 12, 31)
    else:
        first = date.fromisoformat(field + "-01")
        last = (date(first.year + 1, 1, 1) if first.month == 12
                else first.replace(month=first.month + 1)) - timedelta(days=1)
    return {first + timedelta(days=n) for n in range((last - first).days + 1)}


def test_a_range_covers_the_utc_days_it_touches_its_end_excluded():
    start = datetime(2026, 3, 28, 23, 0, tzinfo=UTC)
    assert covered([(start, start + timedelta(hours=1))]) == ["2026-03-28"]
    assert covered([(start, start + timedelta(hours=1, microseconds=1))]) == [
        "2026-03-28", "2026-03-29"]


def test_a_day_in_another_zone_spans_two_utc_days():
    start = datetime(2026, 3, 29, tzinfo=KOLKATA)  # 2026-03-28 18:30 UTC
    assert covered([(start, start + timedelta(days=1))]) == ["2026-03-28", "2026-03-29"]


def test_several_ranges_cover_their_union_once():
    day = datetime(2026, 1, 10, tzinfo=UTC)
    ranges = [(day - timedelta(days=2), day), (day, day + timedelta(days=2))]
    assert covered(ranges) == [f"2026-01-{n:02d}" for n in range(8, 12)]


def test_whole_months_years_and_centuries_are_watched_as_one_count_each():
    start = datetime(2025, 12, 30, tzinfo=UTC)
    assert covered([(start, datetime(2026, 3, 2, tzinfo=UTC))]) == [
        "2025-12-30", "2025-12-31", "2026-01", "2026-02", "2026-03-01"]
    assert covered([(datetime(1900, 1, 1, tzinfo=UTC), datetime(2001, 1, 1, tzinfo=UTC))]) == [
        "19", "2000"]


def test_an_open_range_reaches_the_calendars_ends_in_few_counts():
    end = datetime(2026, 12, 5, tzinfo=UTC)
    before = covered([(None, end)])
    assert len(before) < 300
    assert set().union(*map(days_of, before)) == {
        date.min + timedelta(days=n) for n in range((end.date() - date.min).days)}
    after = covered([(end, None)])
    assert len(after) < 300 and "99" in after and "2026-12-05" in after
    assert len(covered([(None, None)])) == 100  # every century


def test_the_counts_of_a_range_stand_for_exactly_its_days():
    for first, days in ((date(1, 1, 1), 3_000), (date(1999, 11, 17), 900),
                        (date(2026, 2, 27), 400), (date(9998, 12, 1), 395)):
        start = datetime(first.year, first.month, first.day, tzinfo=UTC)
        fields = covered([(start, start + timedelta(days=days))])
        parts = [days_of(field) for field in fields]
        assert sum(map(len, parts)) == days  # no day twice
        assert set().union(*parts) == {first + timedelta(days=n) for n in range(days)}
