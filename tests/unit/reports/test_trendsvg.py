"""The trend chart's geometry and words, from a trend's JSON: round ticks, gaps for no value,
the compared period dashed in its series' colour, DST days' 23 and 25 points, exact numbers."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from werkzeug.datastructures import MultiDict

from webapp.reads.ranges import day_start
from webapp.reports import intervals, tables, trendsvg, trendwords
from webapp.reports.measures import MEASURES

BERLIN = "Europe/Berlin"


def day_buckets(day: date, interval: str = "hour", zone: str = BERLIN) -> list[dict]:
    return intervals.buckets(interval, zone, day_start(day, zone),
                             day_start(date.fromordinal(day.toordinal() + 1), zone))


def series(letter: str, values: list, total=None, measure: str = "events", prop=None,
           event: str | None = "signup", conditions=(), **extra) -> dict:
    return {"letter": letter, "label": "", "eventType": event, "conditions": list(conditions),
            "measure": measure, "property": prop, "values": values,
            "total": sum(v for v in values if v is not None) if total is None else total,
            **extra}


def trend(buckets: list[dict], *all_series: dict, zone: str = BERLIN, interval: str = "hour",
          **extra) -> dict:
    data = {"interval": interval, "cumulative": False, "buckets": buckets,
            "series": list(all_series), "formula": None, "compare": None, "breakdown": None,
            "from": buckets[0]["timestamp"], "to": buckets[-1]["timestamp"], "timeZone": zone,
            "where": [], "cached": False}
    data.update(extra)
    return data


def test_ticks_are_round_include_zero_and_carry_thousands_separators():
    assert trendsvg.ticks(0, 1234) == [0, 500, 1000, 1500]
    assert [trendsvg.tick_text(t) for t in trendsvg.ticks(0, 1234)] == [
        "0", "500", "1,000", "1,500"]
    assert trendsvg.ticks(5, 7) == [0, 2, 4, 6, 8]  # the axis starts at zero
    low = trendsvg.ticks(-3, 7)
    assert low[0] <= -3 and low[-1] >= 7 and 0 in low
    assert [trendsvg.tick_text(t) for t in trendsvg.ticks(0, 0.7)] == [
        "0", "0.2", "0.4", "0.6", "0.8"]  # decimals exactly, never 0.6000000000000001
    assert trendsvg.ticks(0, 0) == [0, 1]  # every value zero: a unit axis
    assert trendsvg.ticks(0, 2) == [0, Decimal("0.5"), 1, Decimal("1.5"), 2]
    assert trendsvg.ticks(0, 2, whole=True) == [0, 1, 2]  # no half events


def test_counts_get_whole_ticks_and_the_compared_period_lies_under_the_range():
    buckets = day_buckets(date(2026, 3, 10), "day")
    counts = trend(buckets, series("A", [2]), interval="day",
                   compare={"mode": "week", "from": buckets[0]["timestamp"],
                            "to": buckets[0]["timestamp"], "buckets": buckets,
                            "series": [{"letter": "A", "values": [1], "total": 1,
                                        "change": 100.0}], "formula": None})
    drawing = trendsvg.layout(counts)
    assert [text for _, text in drawing.y_ticks] == ["0", "1", "2"]
    assert [line.key for line in drawing.lines] == ["A compare", "A"]  # drawn first
    averages = trend(buckets, series("A", [2], measure="avg", prop="x"), interval="day")
    assert [text for _, text in trendsvg.layout(averages).y_ticks] == ["0", "1", "2"]
    halves = trend(buckets, series("A", [1.5], measure="avg", prop="x"), interval="day")
    assert "0.5" in [text for _, text in trendsvg.layout(halves).y_ticks]


def test_every_point_lies_on_the_axis_the_ticks_describe():
    buckets = day_buckets(date(2026, 3, 10))
    values = [i * 100 for i in range(24)]
    drawing = trendsvg.layout(trend(buckets, series("A", values)))
    (y_zero, text_zero), *_, (y_top, text_top) = drawing.y_ticks
    assert (text_zero, text_top) == ("0", "2,500")  # 2,300 at most, in steps of 500
    points = drawing.lines[0].points
    assert len(points) == 24 and points[0].y == y_zero
    assert points[-1].y == pytest.approx(y_zero + (y_top - y_zero) * 2300 / 2500, abs=0.01)
    assert [p.x for p in points] == sorted({p.x for p in points})  # in time order


def test_no_value_is_a_gap_not_a_zero():
    buckets = day_buckets(date(2026, 3, 10))[:6]
    values = [1, None, 2, 3, None, 0]
    line = trendsvg.layout(trend(buckets, series("A", values, measure="avg",
                                                 prop="amount"))).lines[0]
    assert len(line.points) == 4  # none for the two empty hours
    assert len(line.paths) == 1 and line.paths[0].count("L") == 1  # 2 -> 3 joined, nothing else
    assert [p.alone for p in line.points] == [True, False, False, True]  # 1 and 0 stand alone
    assert "average of amount 2" in line.points[1].title


def test_a_point_says_when_what_and_how_much_on_the_projects_clocks():
    buckets = day_buckets(date(2026, 3, 10))
    values = [0] * 24
    values[14] = 1234
    values[15] = 1
    drawing = trendsvg.layout(trend(buckets, series("A", values)))
    titles = [p.title for p in drawing.lines[0].points]
    assert titles[14] == "Tue 10 Mar 14:00 (Europe/Berlin) · A: signup · 1,234 events"
    assert titles[15].endswith("· 1 event")
    assert drawing.x_labels[0][1:] == ("00:00", "Tue 10 Mar")
    assert len(drawing.x_labels) <= trendsvg.MAX_X_LABELS
    assert "Trend per hour, 2026-03-10 00:00 to 2026-03-10 23:00 (Europe/Berlin)" in \
        drawing.title and "A: signup (events), total 1,235" in drawing.title


@pytest.mark.parametrize(("day", "hours"), [(date(2026, 3, 29), 23), (date(2026, 10, 25), 25)])
def test_a_dst_day_has_as_many_points_as_hours(day, hours):
    buckets = day_buckets(day)
    drawing = trendsvg.layout(trend(buckets, series("A", list(range(len(buckets))))))
    assert drawing.points == hours == len(drawing.lines[0].points)
    titles = [p.title.split(" (")[0] for p in drawing.lines[0].points]
    assert len(set(titles)) == hours  # the repeated hour told apart by its offset
    if hours == 25:
        assert titles[2:4] == ["Sun 25 Oct 02:00 +02:00", "Sun 25 Oct 02:00 +01:00"]
    else:
        assert titles[1:3] == ["Sun 29 Mar 01:00", "Sun 29 Mar 03:00"]
    names = trendwords.table(trend(buckets, series("A", [1] * len(buckets))))[1]
    assert len(names) == hours + 1 and names[-1][0] == "Total"


def test_the_compared_period_is_dashed_in_its_series_colour():
    buckets = day_buckets(date(2026, 3, 10))
    before = day_buckets(date(2026, 3, 9))
    data = trend(buckets, series("A", [2] * 24), series("B", [1] * 24, event="purchase"),
                 formula={"expression": "A / B", "values": [2] * 24, "total": 2},
                 compare={"mode": "previous", "from": before[0]["timestamp"],
                          "to": buckets[0]["timestamp"], "buckets": before,
                          "series": [{"letter": "A", "values": [1] * 24 + [9], "total": 24,
                                      "change": 100.0},
                                     {"letter": "B", "values": [1] * 24, "total": 24,
                                      "change": -3.04}],
                          "formula": {"values": [1] * 24, "total": 1, "change": 100.0}})
    drawing = trendsvg.layout(data)
    by_key = {line.key: line for line in drawing.lines}
    assert set(by_key) == {"A", "B", "formula", "A compare", "B compare", "formula compare"}
    for key in ("A", "B", "formula"):
        assert by_key[f"{key} compare"].compare and not by_key[key].compare
        assert by_key[f"{key} compare"].css == by_key[key].css
    assert len({by_key[key].css for key in ("A", "B", "formula")}) == 3
    assert len(by_key["A compare"].points) == 24  # the earlier period's extra bucket is cut
    assert by_key["A compare"].points[5].title.startswith("Mon 9 Mar 05:00 (Europe/Berlin)")
    assert "the previous period · 1 event" in by_key["A compare"].points[5].title
    legend = {item.key: item for item in drawing.legend}
    assert (legend["A"].total, legend["A"].change, legend["A"].before) == ("48", "+100.0%", "24")
    assert legend["B"].change == "\N{MINUS SIGN}3.0%"
    assert legend["Formula"].name == "A / B" and legend["Formula"].change == "+100.0%"
    assert [item.name for item in drawing.legend if item.compare] == [
        "the previous period, 2026-03-09 00:00 to 2026-03-10 00:00 (Europe/Berlin)"]


def test_bars_stand_side_by_side_from_zero_and_below_it_for_negative_values():
    buckets = day_buckets(date(2026, 3, 10), "day")
    data = trend(buckets * 1, series("A", [4]), series("B", [-2], measure="sum", prop="x"),
                 interval="day")
    drawing = trendsvg.layout(data, "bar")
    a, b = (line.bars[0] for line in drawing.lines)
    assert not drawing.lines[0].points and a.x + a.width == pytest.approx(b.x, abs=0.01)
    assert a.y + a.height == pytest.approx(drawing.zero) and a.height == pytest.approx(
        2 * b.height, abs=0.02)
    assert b.y == pytest.approx(drawing.zero)  # hangs below the zero line
    assert b.title == "Tue 10 Mar 2026 (Europe/Berlin) · B: signup · sum of x -2"
    assert trendsvg.layout(data, "pie").display == "line"


def test_breakdown_lines_and_the_formula_get_their_own_lines_and_colours():
    buckets = day_buckets(date(2026, 3, 1), "day")
    lines = [{"value": "pro", "other": False, "values": [3], "total": 3},
             {"value": None, "other": False, "values": [1], "total": 1},
             {"value": None, "other": True, "values": [2], "total": 2}]
    data = trend(buckets, series("A", [6], breakdown=lines), interval="day",
                 breakdown={"property": "plan", "series": "A"},
                 formula={"expression": "A * 2", "values": [12], "total": 12})
    drawing = trendsvg.layout(data)
    assert [line.key for line in drawing.lines] == [
        "A", "A plan = pro", "A plan: no value", "A plan: other values", "formula"]
    assert [line.css for line in drawing.lines] == ["s0", "s1", "s2", "s3", "s4"]
    assert [item.part for item in drawing.legend] == [False, True, True, True, False]
    header, rows = trendwords.table(data)
    assert header == ["Day (Europe/Berlin)", "A: signup (events)", "A: plan = pro",
                      "A: plan: no value", "A: plan: other values", "Formula: A * 2"]
    assert rows[0] == ["Sun 1 Mar 2026", "6", "3", "1", "2", "12"]


def test_numbers_keep_every_digit_with_thousands_separators():
    assert trendwords.number(1234567) == "1,234,567"
    assert trendwords.number(0.1) == "0.1" and trendwords.number(1e-06) == "0.000001"
    assert trendwords.number(-1234.5) == "-1,234.5"
    assert trendwords.number("12345678901234567.25") == "12,345,678,901,234,567.25"
    assert trendwords.number(None) == "–" and trendwords.number("x") == "–"
    assert [trendwords.change(c) for c in (12.5, -3.0, 0.0, -0.04, None, 1234.0)] == [
        "+12.5%", "\N{MINUS SIGN}3.0%", "0.0%", "0.0%", "–", "+1,234.0%"]


def test_the_pages_headers_name_the_csv_tables_columns_one_for_one():
    buckets = day_buckets(date(2026, 3, 1), "week")
    line = {"value": "pro", "other": False, "values": [1], "total": 1}
    data = trend(buckets, series("A", [1], breakdown=[line]),
                 series("B", [None], total=None, measure="avg", prop="amount",
                        conditions=["metadata.plan=pro"]),
                 interval="week", breakdown={"property": "plan", "series": "A"},
                 formula={"expression": "A / B", "values": [None], "total": None},
                 compare={"mode": "week", "from": "", "to": "", "buckets": buckets,
                          "series": [{"letter": "A", "values": [0], "total": 0, "change": None},
                                     {"letter": "B", "values": [None], "total": None,
                                      "change": None}],
                          "formula": None})
    header, rows = trendwords.table(data)
    assert len(header) == len(tables.trends(data)[0]) == 7
    assert header[2:] == ["A: plan = pro",
                          "B: signup where metadata.plan=pro (average of amount)",
                          "Formula: A / B", "A, a week earlier", "B, a week earlier"]
    assert header[0] == "Week (Europe/Berlin)"
    assert rows[0][0] == "week of Mon 23 Feb 2026" and rows[0][3] == "–"


def test_the_forms_words_cover_every_measure_and_display():
    assert list(trendwords.MEASURE_WORDS) == list(MEASURES)
    assert list(trendwords.INTERVAL_WORDS) == list(intervals.INTERVALS)
    assert list(trendwords.COMPARE_WORDS) == list(intervals.COMPARE)
    assert list(trendwords.RANGE_WORDS) == list(intervals.PRESETS)
    assert trendsvg.display_problems(MultiDict({"display": "bar"})) == []
    assert trendsvg.display_problems(MultiDict()) == []
    assert trendsvg.display_problems(MultiDict({"display": "pie"})) == [
        '"display" is one of line, bar, not "pie"']
