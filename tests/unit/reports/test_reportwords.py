"""Reports in words: durations in their two largest units, percentages, the heat classes of
retention's grid, and the funnel's bars as drawn."""

from __future__ import annotations

import pytest

from webapp.reports import reportsvg, reportwords


@pytest.mark.parametrize(("seconds", "words"), [
    (41932.202, "11 h 39 min"), (200, "3 min 20 s"), (187200, "2 d 4 h"), (0, "0 s"),
    (0.42, "0.4 s"), (7.34, "7.3 s"), (30, "30 s"), (59.6, "1 min"), (60, "1 min"),
    (61, "1 min 1 s"), (3599.9, "1 h"), (3576, "1 h"), (86399, "1 d"), (7 * 86400, "7 d"),
    (1e9, "11,574 d 2 h"), (None, "–"), (float("nan"), "–"), (-1, "–"),
])
def test_a_duration_reads_as_people_say_it(seconds, words):
    assert reportwords.duration(seconds) == words


def test_percentages_and_heat_steps():
    assert reportwords.percentage(24.75) == "24.8%"
    assert reportwords.percentage(1234) == "1,234.0%"
    assert reportwords.percentage(None) == "–"
    assert [reportwords.heat(n, 20) for n in (0, 1, 2, 9, 10, 19, 20)] == [
        "heat-0", "heat-1", "heat-1", "heat-4", "heat-5", "heat-10", "heat-10"]
    assert reportwords.heat(0, 0) == "heat-0"


def funnel(users: list[int], before: list[int] | None) -> dict:
    def steps(counts):
        return [{"step": i + 1, "eventType": f"e{i}", "conditions": [], "users": n,
                 "conversionFromFirst": 100 * n / counts[0] if counts[0] else 0.0,
                 "conversionFromPrevious": 0.0, "dropOff": 0,
                 "medianSeconds": 200.0 if i else None, "p90Seconds": None}
                for i, n in enumerate(counts)]

    data = {"steps": steps(users), "mode": "ordered", "windowSeconds": 86400,
            "from": "2026-11-02T00:00:00Z", "to": "2026-11-09T00:00:00Z",
            "timeZone": "UTC"}
    if before is not None:
        data["previous"] = {"steps": steps(before)}
    return data


def test_the_funnels_bars_stand_beside_the_previous_periods():
    drawing = reportsvg.funnel(funnel([8, 4, 2], [16, 4, 0]))
    bars = [(r.css, r.height) for r in drawing.rects]
    top = reportsvg.PLOT_H  # the largest count of either period fills the height
    assert bars == [("bar now", top / 2), ("bar previous", top), ("bar now", top / 4),
                    ("bar previous", top / 4), ("bar now", top / 8), ("bar previous", 0)]
    for now, before in zip(drawing.rects[::2], drawing.rects[1::2], strict=True):
        assert before.x == pytest.approx(now.x + now.width + 3)  # beside, not over
    assert [t.text for t in drawing.texts if t.css == "label muted"] == [
        "median 3 min 20 s", "median 3 min 20 s"]
    assert [css for css, _ in drawing.legend] == ["now", "previous"]
    alone = reportsvg.funnel(funnel([8, 4], None))
    assert [r.css for r in alone.rects] == ["bar now", "bar now"] and len(alone.legend) == 1


def test_a_bars_names_are_cut_only_when_longer_than_their_room():
    drawing = reportsvg.bars("b", "B", [("free", 1, "1", ""), ("x" * 40, 2, "2", "")])
    names = [t.text for t in drawing.texts if t.anchor == "end"]
    assert names == ["free", "x" * (reportsvg.NAME_CHARS - 1) + "…"]
    assert [t.text for t in reportsvg.bars("b", "B", [("free", 1, "1", "")]).texts][0] == \
        "free"
