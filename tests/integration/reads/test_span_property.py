"""Stats over any range in any zone: buckets, totals and users agree exactly with a model that
places each event by its local wall clock, whichever source (hour or minute rollups, events)
serves the range."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.integration.reports.model import Row, meets
from tests.integration.reports.test_reports_property import BASES, CONDITION, META, ZONES, store
from webapp.reads import span
from webapp.reads.ranges import day_start

EVENT = st.tuples(st.sampled_from(["a", "b", "c"]), st.sampled_from(["u1", "u2", "u3"]),
                  st.integers(0, 6 * 86_400), META)


def key_of(moment: datetime, bucket: str, zone: str):
    local = moment.astimezone(ZoneInfo(zone))
    if bucket == "hour":
        return int((moment - timedelta(minutes=local.minute, seconds=local.second,
                                       microseconds=local.microsecond)).timestamp())
    day = local.date()
    return day if bucket == "day" else day - timedelta(days=day.weekday())


@st.composite
def ranges(draw):
    zone, base = draw(st.sampled_from(ZONES)), draw(st.sampled_from(BASES))
    kind = draw(st.sampled_from(["days", "hours", "instants"]))
    if kind == "days":
        first = (base + timedelta(days=draw(st.integers(0, 4)))).date()
        return zone, base, day_start(first, zone), \
            day_start(first + timedelta(days=draw(st.integers(1, 3))), zone)
    start = base + timedelta(seconds=draw(st.integers(0, 4 * 86_400)))
    if kind == "hours":
        start = start.replace(minute=0, second=0)
        return zone, base, start, start + timedelta(hours=draw(st.integers(1, 72)))
    return zone, base, start, start + timedelta(seconds=draw(st.integers(60, 3 * 86_400)))


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(events=st.lists(EVENT, max_size=40), picked=ranges(),
       bucket=st.sampled_from(span.BUCKETS), where=st.lists(CONDITION, max_size=1))
@example(events=[("a", "u1", 15 * 60, {}), ("b", "u2", 45 * 60, {}), ("a", "u3", 7300, {})],
         picked=("Asia/Kolkata", BASES[0], BASES[0], BASES[0] + timedelta(hours=3)),
         bucket="hour", where=[])  # whole UTC hours in a half-hour zone: minute rollups
@example(events=[], picked=("UTC", datetime(2026, 3, 7, tzinfo=UTC),
                            datetime(2026, 3, 7, 8, 59, 1, tzinfo=UTC),
                            datetime(2026, 3, 7, 9, 0, 1, tzinfo=UTC)),
         bucket="hour", where=[])  # a minute's range across an hour: both hours are buckets
def test_span_agrees_with_wall_clock_model(app, project, events, picked, bucket, where):
    zone, base, start, end = picked
    rows: list[Row] = store(app, project.id, base, events)
    with app.app_context():
        got = span.compute(project.id, start, end, zone, bucket, tuple(where), compare=False)
    mine = [r for r in rows if start <= r.ts < end and all(meets(c, r) for c in where)]
    assert got["totalEvents"] == len(mine)
    assert got["uniqueUsers"] == len({r.user for r in mine})
    assert got["statistics"] == dict(sorted(Counter(r.type for r in mine).items()))
    counts = Counter(key_of(r.ts, bucket, zone) for r in mine)
    keys = [p["timestamp"] for p in got["series"]]
    assert len(keys) == len(set(keys))
    by_key = {p["timestamp"]: p["count"] for p in got["series"]}
    for key, n in counts.items():
        label = span.label(key, bucket, zone)["timestamp"]
        assert by_key.pop(label) == n
    assert set(by_key.values()) <= {0}
    if bucket == "hour" and end - start <= timedelta(days=3):  # every local hour, in order
        minute, expected = start, []
        while minute < end:
            key = key_of(minute, "hour", zone)
            if not expected or expected[-1] != key:
                expected.append(key)
            # on to the next whole minute: a range that starts inside a minute reaches
            # into the hour of its last instants too
            minute = minute.replace(second=0, microsecond=0) + timedelta(minutes=1)
        assert keys == [span.label(k, "hour", zone)["timestamp"] for k in expected]


def test_dst_days_have_23_and_25_hourly_buckets_and_odd_offsets_24():
    for zone, day, hours in (("America/New_York", "2026-03-08", 23),
                             ("America/New_York", "2026-11-01", 25),
                             ("Europe/Berlin", "2026-10-25", 25),
                             ("Asia/Kathmandu", "2026-03-08", 24),
                             ("Australia/Lord_Howe", "2026-04-05", 25)):
        first = datetime.fromisoformat(day).date()
        start, end = day_start(first, zone), day_start(first + timedelta(days=1), zone)
        assert len(span.bucket_keys("hour", zone, start, end)) == hours, zone
    assert span.whole_hours("Europe/Berlin", datetime(2026, 3, 1, tzinfo=UTC),
                            datetime(2026, 4, 1, tzinfo=UTC))
    assert not span.whole_hours("Asia/Kolkata", datetime(2026, 3, 1, tzinfo=UTC),
                                datetime(2026, 4, 1, tzinfo=UTC))
