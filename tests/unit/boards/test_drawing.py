"""A tile's compact drawing: the headline each kind leads with, a trend's small chart (round
ticks, gaps as gaps, the compared period under the range's) and bars."""

from __future__ import annotations

import re

from webapp.boards import drawing


def trend(values, compare=None, formula=None, interval="day") -> dict:
    buckets = [{"timestamp": f"2026-03-0{i + 1}T00:00:00.000Z", "local": f"2026-03-0{i + 1}"}
               for i in range(len(values))]
    series = {"letter": "A", "label": "signup", "eventType": "signup", "conditions": [],
              "measure": "events", "property": None, "values": values,
              "total": sum(v for v in values if v is not None)}
    data = {"interval": interval, "cumulative": False, "buckets": buckets, "series": [series],
            "formula": formula, "compare": None, "breakdown": None, "timeZone": "UTC",
            "from": "2026-03-01T00:00:00.000Z", "to": "2026-03-06T00:00:00.000Z"}
    if compare is not None:
        data["compare"] = {"mode": "previous", "buckets": buckets, "formula": None,
                           "series": [{"letter": "A", "values": compare,
                                       "total": sum(compare), "change": None}]}
    return data


def ys(path: str) -> list[float]:
    return [float(y) for y in re.findall(r",([\d.]+)", path)]


def test_a_trend_draws_one_line_per_series_with_gaps_and_round_ticks():
    spark = drawing.spark(trend([0, 4, None, 10, None]), "small")
    (line,) = spark.lines
    assert len(line.paths) == 1  # 0 and 4 joined; 10 alone between gaps, a dot
    first = ys(line.paths[0])
    assert first[0] == spark.bottom  # zero on the axis
    assert spark.top < first[1] < spark.bottom  # 4 of a 10 tick: between
    assert [text for _, text in spark.y_ticks] == ["0", "10"]
    (dot,) = line.dots
    assert dot[1] == spark.top  # 10: at the top tick
    assert [text for _, text, _ in spark.x_labels] == ["1 Mar", "5 Mar"]
    assert "total 14" in spark.title and not spark.empty
    assert len(drawing.spark(trend([1, None, 3]), "small").lines[0].dots) == 2
    assert drawing.spark(trend([0, 0, 0]), "wide").empty


def test_the_compared_period_is_drawn_dashed_under_the_range():
    spark = drawing.spark(trend([1, 2, 3], compare=[3, 2, 1]), "wide")
    assert [line.compare for line in spark.lines] == [True, False]
    assert spark.lines[0].css == spark.lines[1].css  # one colour, dashed
    assert spark.width == drawing.WIDTHS["wide"]


def test_each_kind_leads_with_its_number_in_words():
    assert drawing.headline("trends", trend([1, 2, 3])) == drawing.Headline(
        "6", "events: signup", 6)
    with_formula = trend([1, 2], formula={"expression": "A * 1.5", "values": [1.5, 3],
                                          "total": "4.5"})
    assert drawing.headline("trends", with_formula).shown == "4.5"
    steps = [{"step": 1, "eventType": "signup", "users": 1234, "conversionFromFirst": 100.0},
             {"step": 2, "eventType": "buy", "users": 306, "conversionFromFirst": 24.8}]
    funnel = drawing.headline("funnel", {"steps": steps})
    assert (funnel.shown, funnel.value) == ("24.8%", 306)
    assert funnel.words == "of 1,234 users went from signup to buy"
    nobody = [dict(s, users=0, conversionFromFirst=0.0) for s in steps]
    assert drawing.headline("funnel", {"steps": nobody}).shown == "–"
    retention = {"unit": "week", "cohorts": [{"users": 1}]}
    assert drawing.headline("retention", retention).words == "user in 1 week cohort"
    paths = {"users": 2, "direction": "after", "anchor": None, "paths": []}
    assert drawing.headline("paths", paths).words == "users after any event"
    breakdown = {"total": 12000, "eventType": None, "property": "plan", "values": []}
    assert drawing.headline("breakdown", breakdown) == drawing.Headline(
        "12,000", "events by plan", 12000)


def test_bars_are_scaled_to_the_largest_and_cut_to_a_few():
    values = [{"value": f"v{i}", "count": 10 - i, "uniqueUsers": 1, "share": 10.0}
              for i in range(10)]
    bars = drawing.breakdown_bars({"eventType": "buy", "property": "plan", "values": values})
    assert len(bars.rows) == drawing.MOST_BARS and bars.most == 10
    assert bars.rows[0].text == "10 · 10.0%" and bars.title == "buy by plan"
    walks = drawing.paths_bars({"direction": "before", "anchor": "buy",
                                "paths": [{"events": ["a", "buy"], "users": 1}]})
    assert walks.rows[0].label == "a › buy" and walks.rows[0].text == "1 user"
