"""Report pages people read: headers in words, durations, percentages and thousands
separators; the funnel's bars beside the previous period, retention's grid coloured by classes
(no inline style), breakdowns as bars, each chart named and tabulated; empty and error states
that say what to do; the CSV keeps the API's keys; the pickers in every form."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime
from html import unescape

import pytest

from tests.helpers import READ_HEADERS
from webapp.models import iso
from webapp.reports import reportsvg

WEEK = "from=2026-11-02&to=2026-11-08"
FUNNEL = f"step=signup&step=view&step=buy&window=1d&{WEEK}"
BULK = 1_234  # views of the pro plan, for thousands separators


@pytest.fixture(autouse=True)
def inline(app, monkeypatch):
    """Reports run in the page however busy the machine (past REPORT_INLINE_MS a page shows a
    job's progress instead, which test_reports_browser follows)."""
    monkeypatch.setitem(app.config, "REPORT_INLINE_MS", 20_000)


@pytest.fixture
def shop(app, project):
    """A week in UTC: four signups (two pro, two free); ann views 5 minutes after signing up
    and buys 11 h 39 min after, bob views after 3 min 20 s; ann comes back the next day; dan
    signed up the week before; a bulk user views the pro plan 1,234 times."""
    from webapp.store.insert import store_batch

    events = [("signup", "ann", "2026-11-02T08:00:00", {"plan": "pro"}),
              ("view", "ann", "2026-11-02T08:05:00", {}),
              ("buy", "ann", "2026-11-02T19:39:00", {}),
              ("signup", "eve", "2026-11-02T12:00:00", {"plan": "pro"}),
              ("view", "ann", "2026-11-03T09:00:00", {}),
              ("signup", "bob", "2026-11-03T10:00:00", {"plan": "free"}),
              ("view", "bob", "2026-11-03T10:03:20", {}),
              ("signup", "cy", "2026-11-04T09:00:00", {"plan": "free"}),
              ("signup", "dan", "2026-10-27T09:00:00", {"plan": "free"}),
              ("view", "dan", "2026-10-27T09:01:00", {})]
    events += [("view", "bulk", f"2026-11-05T10:{i // 60 % 60:02d}:{i % 60:02d}",
                {"plan": "pro"}) for i in range(BULK)]

    def at(text: str) -> str:
        return iso(datetime.fromisoformat(text + "+00:00"))

    with app.app_context():
        store_batch(project.id, [{"id": f"s{i}", "type": t, "user": u, "ts": at(when),
                                  "meta": meta, "rcv": at(when)}
                                 for i, (t, u, when, meta) in enumerate(events)])
    return events


def page(client, kind: str, query: str = "", **headers) -> tuple[int, str]:
    answer = client.get(f"/projects/default/reports/{kind}?{query}", headers=headers)
    return answer.status_code, answer.get_data(as_text=True)


def result_of(html: str) -> str:
    return html[html.index('id="report-result"'):]


def table_rows(html: str, caption: str) -> list[list[str]]:
    """The rows of the table with `caption` (header row first), as the text of their cells."""
    found = re.search(r"<caption>" + re.escape(caption) + r"</caption>(.*?)</table>",
                      unescape(html), re.S)
    assert found, f"no table {caption!r}"
    return [[re.sub(r"<[^>]+>", "", cell).strip()
             for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", found.group(1), re.S)]


def svg_title(html: str, key: str) -> str:
    return unescape(re.search(rf'<title id="{key}-title">([^<]*)</title>', html).group(1))


@pytest.mark.parametrize("headers", [{}, {"HX-Request": "true"}])
def test_a_funnel_reads_in_words_with_bars_beside_the_previous_period(logged_in, shop,
                                                                      headers):
    status, html = page(logged_in, "funnel", FUNNEL + "&breakdown=plan", **headers)
    assert status == 200
    result = result_of(html)
    for key in ("conversionFromFirst", "conversionFromPrevious", "dropOff", "medianSeconds",
                "p90Seconds", "41940"):
        assert key not in result
    rows = table_rows(result, "Each step: users, conversion and time to convert")
    assert rows[0] == ["Step", "Users", "Converted from step 1",
                       "Converted from the previous step", "Dropped off",
                       "Median time from step 1", "90th percentile time from step 1",
                       "Users, previous period", "Converted from step 1, previous period"]
    assert rows[1:] == [
        ["1. signup", "4", "100.0%", "–", "–", "–", "–", "1", "100.0%"],
        ["2. view", "2", "50.0%", "50.0%", "2", "3 min 20 s", "5 min", "1", "100.0%"],
        ["3. buy", "1", "25.0%", "50.0%", "1", "11 h 39 min", "11 h 39 min", "0", "0.0%"]]
    assert "1 of 4 users (25.0%) went from signup to buy within 1 d" in unescape(result)
    # the chart: a bar per step and one for the previous period beside it, named as a whole
    assert 'role="img" aria-labelledby="funnel-title"' in result
    assert "Funnel of 3 steps: 1 of 4 users (25.0%)" in svg_title(result, "funnel")
    bars = re.findall(r'<rect class="bar (now|previous)"[^>]*height="([0-9.]+)"><title>'
                      r"([^<]*)</title>", result)
    assert [(kind, float(h)) for kind, h, _ in bars] == [
        ("now", 170.0), ("previous", 42.5), ("now", 85.0), ("previous", 42.5),
        ("now", 42.5), ("previous", 0.0)]
    assert unescape(bars[4][2]) == ("3. buy: 1 user, 25.0% of step 1, median 11 h 39 min "
                                    "from step 1")
    assert ">median 3 min 20 s</text>" in result and ">50.0% of step 1</text>" in result
    assert "previous period, 2026-10-26 00:00 to 2026-11-02 00:00" in unescape(result)
    # the breakdown: a header row, a bar per value, and its table
    by_plan = table_rows(result, "By plan: users at each step (share of the value's step 1)")
    assert by_plan[0] == ["plan (of step 1's event)", "1. signup", "2. view", "3. buy",
                          "Converted from step 1 to the last"]
    assert by_plan[1:] == [["free", "2", "1 (50.0%)", "0 (0.0%)", "0.0%"],
                           ["pro", "2", "1 (50.0%)", "1 (50.0%)", "50.0%"]]
    assert "Conversion from step 1 to the last by plan: free 0.0% (0 of 2); pro 50.0% (1 of 2)" \
        == svg_title(result, "funnel-breakdown")


def test_the_retention_grid_is_coloured_by_classes_with_its_numbers(logged_in, shop):
    status, html = page(logged_in, "retention", f"start=signup&periods=3&{WEEK}")
    assert status == 200
    assert "style=" not in html  # the CSP (style-src 'self') would block it
    result = result_of(html)
    rows = table_rows(result, "Users coming back, by cohort and day")
    assert rows[0] == ["Cohort (day of the first event, UTC)", "Users", "Day 0", "Day 1",
                       "Day 2"]
    assert rows[1] == ["Mon 2 Nov 2026", "2", "2 (100.0%)", "1 (50.0%)", "0 (0.0%)"]
    assert rows[2] == ["Tue 3 Nov 2026", "1", "1 (100.0%)", "0 (0.0%)", "0 (0.0%)"]
    assert rows[3][:3] == ["Wed 4 Nov 2026", "1", "1 (100.0%)"]
    cells = re.findall(r'<td class="heat (heat-[0-9]+)">([0-9,]+) <small>\(([0-9.]+)%\)</small>',
                       result)
    assert cells[:3] == [("heat-10", "2", "100.0"), ("heat-5", "1", "50.0"),
                         ("heat-0", "0", "0.0")]
    for css, _, share in cells:  # the class steps with the share, 10% a step
        assert css == f"heat-{round(float(share) / 10)}"
    assert "users in 3 cohorts by day of their first event" in result
    # a period not begun by the range's end says so
    _, later = page(logged_in, "retention", "start=signup&periods=3&from=2026-11-02&to=2026-11-03")
    assert "not yet" in table_rows(result_of(later), "Users coming back, by cohort and day")[2]


def test_a_breakdown_is_drawn_as_bars_with_thousands_separators(logged_in, shop):
    status, html = page(logged_in, "breakdown", f"property=plan&{WEEK}")
    assert status == 200
    result = result_of(html)
    rows = table_rows(result, "Events by plan")
    assert rows[0] == ["Value of plan", "Events", "Unique users", "Share of events"]
    total = BULK + 4 + 4
    assert rows[1:] == [["pro", "1,236", "3", "99.5%"], ["(no value)", "4", "2", "0.3%"],
                        ["free", "2", "2", "0.2%"], ["Total", f"{total:,}", "–", "100.0%"]]
    widths = re.findall(r'<rect class="bar( none)?" x="[0-9.]+" y="[0-9.]+" width="([0-9.]+)"',
                        result)
    room = reportsvg.WIDTH - (12 + reportsvg.CHAR_W * len("(no value)")) - reportsvg.NUMBERS_W
    assert widths == [("", f"{room:.1f}"), (" none", f"{round(room * 4 / 1236, 2)}"),
                      ("", f"{round(room * 2 / 1236, 2)}")]  # as long as their events
    name = svg_title(result, "breakdown")
    assert name.startswith("Events by plan, 1,242 events by plan: 1,238 with a value (99.7%)")
    assert "pro 1,236 events · 99.5%" in name


def test_paths_read_as_arrows_with_their_share(logged_in, shop):
    status, html = page(logged_in, "paths", f"event=signup&depth=2&{WEEK}")
    assert status == 200
    result = unescape(result_of(html))
    rows = table_rows(result_of(html), "The most common paths")
    assert rows[0] == ["Path (after signup)", "Users", "Share of the users who did signup"]
    assert rows[1:] == [["signup", "2", "50.0%"], ["signup → view", "1", "25.0%"],
                        ["signup → view → buy", "1", "25.0%"]]
    assert "Paths: 4 users did signup; the 3 most common paths after it" in result
    assert "signup → view: 1 user" in result and "signup: 2 users" in result


@pytest.mark.parametrize(("kind", "query", "says"), [
    ("funnel", "step=nothing&step=view", "No user did nothing in this range"),
    ("retention", "start=nothing", "Nobody was new in this range"),
    ("paths", "event=nothing", "No user did nothing in this range"),
    ("breakdown", "property=plan&eventType=nothing", "No nothing events in this range"),
])
def test_an_empty_result_says_what_to_do(logged_in, shop, kind, query, says):
    status, html = page(logged_in, kind, f"{query}&{WEEK}")
    assert status == 200
    empty = " ".join(re.search(r'data-testid="report-empty">(.*?)</p>', html, re.S)
                     .group(1).split())
    assert says in empty and "Widen the range" in empty
    assert "<table" not in result_of(html)


def test_a_property_no_event_has_is_named(logged_in, shop):
    _, html = page(logged_in, "breakdown", f"property=colour&{WEEK}")
    assert "None of these events has a property colour" in html


def test_a_refused_report_lists_every_problem_and_what_to_do(logged_in, shop):
    status, html = page(logged_in, "funnel", "step=signup&window=forever&mode=loose")
    assert status == 400
    assert "The funnel did not run. Change what is listed here, then Run again:" in html
    assert "2 to 8 steps" in html and "window" in unescape(html)
    status, html = page(logged_in, "funnel")
    assert status == 200 and "Choose the events, then Run. A funnel has two to eight" in html


def test_the_csv_keeps_the_api_keys(client, shop):
    answer = client.get(f"/reports/funnel.csv?{FUNNEL}", headers=READ_HEADERS)
    rows = list(csv.reader(io.StringIO(answer.get_data(as_text=True))))
    assert rows[0] == ["step", "eventType", "conditions", "users", "conversionFromFirst",
                       "conversionFromPrevious", "dropOff", "medianSeconds", "p90Seconds"]
    assert rows[3][7] == "41940.0"
