"""The chart labels its buckets on the clocks of the project's zone."""

from webapp.reads.chart import build

SERIES = [{"timestamp": "2026-03-08T06:00:00.000Z", "count": 1},
          {"timestamp": "2026-03-08T07:00:00.000Z", "count": 0},
          {"timestamp": "2026-03-08T08:00:00.000Z", "count": 2}]


def test_utc_instants_are_labelled_in_the_zone_across_a_dst_change():
    chart = build(SERIES, 3600, "America/New_York")  # clocks go forward at 07:00 UTC
    assert [text for _, text in chart.x_labels] == ["01:00", "03:00", "04:00"]
    assert chart.bars[0].label == "01:00 America/New_York: 1 event"


def test_a_zone_a_quarter_hour_off_keeps_the_minutes():
    chart = build(SERIES, 1800, "Asia/Kathmandu")
    assert [text for _, text in chart.x_labels] == ["11:45", "12:45", "13:45"]


def test_points_with_a_local_time_keep_it_and_utc_stays_utc():
    assert build([{**SERIES[0], "local": "2026-03-08T01:00:00-05:00"}], 3600,
                 "America/New_York").x_labels[0][1] == "01:00"
    assert [text for _, text in build(SERIES, 3600).x_labels] == ["06:00", "07:00", "08:00"]
