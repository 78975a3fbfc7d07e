"""Marker geometry: an instant within its bucket's slot, a range as a band cut at the chart's
edges, unequal buckets (a 23-hour day) still one slot each, notes outside left out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from webapp.annotations.markers import MIN_BAND, Note, place, starts_of, when

T0 = datetime(2026, 3, 2, tzinfo=UTC)
HOURS = [T0 + timedelta(hours=i) for i in range(10)]  # ten one-hour buckets
END = T0 + timedelta(hours=10)
BOX = {"left": 40.0, "width": 500.0, "top": 10.0, "height": 100.0, "zone": "UTC"}


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def one(note: Note, starts=HOURS, end=END, **box):
    (marker,) = place([note], starts, end, **{**BOX, **box})
    return marker


def test_an_instant_is_a_line_where_its_time_falls_in_its_bucket():
    marker = one(Note(1, "deployed", at(2.5)))
    assert marker.x == 40 + 50 * 2.5 and marker.width == 0 and not marker.band
    assert (marker.top, marker.height) == (10, 100)
    assert one(Note(1, "at the start", T0)).x == 40
    assert one(Note(1, "last minute", END - timedelta(minutes=6))).x == 40 + 50 * 9.9
    assert marker.title == "deployed · Mon 2 Mar 2026 02:30 (UTC)"
    assert (marker.text, marker.when) == ("deployed", "Mon 2 Mar 2026 02:30 (UTC)")


@pytest.mark.parametrize(("start", "end", "x", "width"), [
    (1, 3, 90, 100),  # inside
    (-5, 2, 40, 100),  # begins before the chart: cut at its left edge
    (8, 30, 440, 100),  # ends after it: cut at the right edge
    (-5, 30, 40, 500),  # covers it all
])
def test_a_range_is_a_band_cut_at_the_charts_edges(start, end, x, width):
    marker = one(Note(2, "campaign", at(start), at(end)))
    assert (marker.x, marker.width, marker.band) == (x, width, True)


def test_a_short_range_is_still_visible_and_stays_inside_the_chart():
    short = one(Note(3, "blip", at(4), at(4) + timedelta(seconds=1)))
    assert short.width == MIN_BAND and short.x == 240
    at_the_end = one(Note(3, "blip", END - timedelta(seconds=1), END))
    assert at_the_end.x + at_the_end.width == pytest.approx(540)


def test_notes_outside_the_chart_are_left_out():
    notes = [Note(1, "before", at(-1)), Note(2, "at the end", END),
             Note(3, "ended at the start", at(-3), T0), Note(4, "after", at(11), at(12)),
             Note(5, "in", at(1))]
    assert [m.id for m in place(notes, HOURS, END, **BOX)] == [5]
    assert place(notes, [], END, **BOX) == []


def test_each_bucket_is_one_slot_however_long_it_is():
    """Berlin's 29 March 2026 has 23 hours: noon of it is past the middle of its slot, and
    the next day's noon is the middle of its own."""
    days = starts_of([{"timestamp": "2026-03-28"}, {"timestamp": "2026-03-29"},
                      {"timestamp": "2026-03-30"}], "Europe/Berlin")
    assert days[1] == datetime(2026, 3, 28, 23, tzinfo=UTC)
    assert days[2] == datetime(2026, 3, 29, 22, tzinfo=UTC)
    end = datetime(2026, 3, 30, 22, tzinfo=UTC)
    box = {**BOX, "width": 300.0, "zone": "Europe/Berlin"}
    noon_short = one(Note(1, "x", datetime(2026, 3, 29, 10, tzinfo=UTC)), days, end, **box)
    assert noon_short.x == round(40 + 100 * (1 + 11 / 23), 2)
    noon = one(Note(1, "x", datetime(2026, 3, 30, 10, tzinfo=UTC)), days, end, **box)
    assert noon.x == 40 + 100 * 2.5
    assert noon.when == "Mon 30 Mar 2026 12:00 (Europe/Berlin)"
    assert starts_of([{"timestamp": "2026-03-30T10:00:00.000Z"}], "UTC") == [
        datetime(2026, 3, 30, 10, tzinfo=UTC)]


def test_a_range_says_its_end_with_its_date_only_when_it_is_another_day():
    same_day = Note(1, "x", datetime(2026, 3, 10, 13, 5, tzinfo=UTC),
                    datetime(2026, 3, 10, 14, 30, tzinfo=UTC))
    assert when(same_day, "Europe/Berlin") == "Tue 10 Mar 2026 14:05 to 15:30 (Europe/Berlin)"
    two_days = Note(1, "x", same_day.starts_at, datetime(2026, 3, 11, 8, tzinfo=UTC))
    assert when(two_days, "UTC") == "Tue 10 Mar 2026 13:05 to Wed 11 Mar 2026 08:00 (UTC)"
