"""The Trends page: its form as a plain GET and under htmx, the chart, legend, totals and table,
the compared period, bars, gaps, the empty state, refusals, live results, and a saved trend's
share link."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest

from tests.helpers import csrf_token
from webapp.models import iso

PAGE = "/projects/default/reports/trends"
DAY = "from=2026-03-10&to=2026-03-10&interval=hour"
TWO = "A=signup&B=purchase&B.measure=sum&B.property=amount&formula=B / A"


@pytest.fixture
def shop(app, project):
    """A day in Berlin (UTC+1): signups at 14:xx local, purchases summing exactly to 0.3 and
    1,234.5, and one signup the day before (for the compared period)."""
    from webapp.store.insert import store_batch
    from webapp.tenancy.tenants import set_time_zone

    def at(text: str) -> str:
        return iso(datetime.fromisoformat(text).astimezone(UTC))

    events = [("signup", "ann", "2026-03-10T14:05+01:00", {}),
              ("signup", "bob", "2026-03-10T14:40+01:00", {}),
              ("purchase", "ann", "2026-03-10T14:50+01:00", {"amount": 0.1}),
              ("purchase", "bob", "2026-03-10T14:55+01:00", {"amount": "0.2"}),
              ("purchase", "ann", "2026-03-10T18:00+01:00", {"amount": 1234.5}),
              ("signup", "cy", "2026-03-09T09:00+01:00", {})]
    with app.app_context():
        set_time_zone(project, "Europe/Berlin")
        store_batch(project.id, [{"id": f"t{i}", "type": t, "user": u, "ts": at(when),
                                  "meta": meta, "rcv": at(when)}
                                 for i, (t, u, when, meta) in enumerate(events)])
    return events


def page(client, query: str, **headers) -> tuple[int, str]:
    answer = client.get(f"{PAGE}?{query}", headers=headers)
    return answer.status_code, answer.get_data(as_text=True)


def titles(html: str) -> list[str]:
    return [unescape(t) for t in re.findall(r"<circle[^>]*><title>([^<]*)</title>", html)]


def test_the_form_offers_five_series_in_words(app, project, logged_in, shop):
    from webapp.store.insert import store_batch

    recent = iso(datetime.now(UTC) - timedelta(hours=2))  # the pickers offer 30 days' types
    with app.app_context():
        store_batch(project.id, [{"id": "recent", "type": "purchase", "user": "ann",
                                  "meta": {}, "ts": recent, "rcv": recent}])
    status, html = page(logged_in, "")
    assert status == 200 and 'hx-get="/projects/default/reports/trends"' in html
    for letter in "ABCDE":
        assert f'name="{letter}" list="event-types"' in html
        assert f'name="{letter}.measure"' in html and f'name="{letter}.where"' in html
    for words in ("unique users", "events per user", "90th percentile of",
                  "distinct values of", "a week earlier", "the last 7 days", "this month"):
        assert words in html
    assert '<option value="purchase">1 event in the last 30 days</option>' in html
    assert "Choose the events, then Run." in html


@pytest.mark.parametrize("headers", [{}, {"HX-Request": "true"}])
def test_two_series_and_a_formula_draw_lines_legend_totals_and_table(logged_in, shop,
                                                                      headers):
    status, html = page(logged_in, f"{TWO}&{DAY}", **headers)
    assert status == 200
    result = html[html.index('id="report-result"'):]
    assert 'role="img"' in result and 'data-points="24"' in result
    name = re.search(r'<title id="trend-title">([^<]*)</title>', result).group(1)
    assert "Trend per hour" in name and "(Europe/Berlin)" in name
    assert "A: signup (events), total 2" in unescape(name)
    drawn = titles(result)
    assert "Tue 10 Mar 14:00 (Europe/Berlin) · A: signup · 2 events" in drawn
    assert "Tue 10 Mar 18:00 (Europe/Berlin) · B: purchase · sum of amount 1,234.5" in drawn
    assert "Tue 10 Mar 14:00 (Europe/Berlin) · Formula B / A · 0.15" in drawn
    assert len([t for t in drawn if "Formula" in t]) == 1  # B / 0 is no value: a gap elsewhere
    assert len(re.findall(r'<g class="series s\d" data-key="[AB]"', result)) == 2
    table = result[result.index('class="trend-table"'):]
    assert "<th scope=\"col\">B: purchase (sum of amount)</th>" in table
    assert "<th scope=\"col\">Formula: B / A</th>" in table
    assert "<th scope=\"row\">Tue 10 Mar 14:00</th><td>2</td><td>0.3</td><td>0.15</td>" in \
        table  # 0.1 + 0.2 summed exactly
    assert "<th scope=\"row\">Total</th><td>2</td><td>1,234.8</td><td>617.4</td>" in table
    totals = result[result.index('class="trend-totals"'):result.index('class="trend-table"')]
    assert "B: purchase (sum of amount)</th><td>1,234.8</td>" in totals
    assert "/reports/trends.csv?" in result and "/reports/trends?" in result
    assert "Save as" in result


def test_the_compared_period_is_dashed_with_its_change(logged_in, shop):
    status, html = page(logged_in, f"A=signup&{DAY}&compare=previous")
    assert status == 200
    assert re.search(r'<g class="series (s\d) compare" data-key="A compare">', html).group(1) \
        == re.search(r'<g class="series (s\d)" data-key="A">', html).group(1)
    assert "Mon 9 Mar 09:00 (Europe/Berlin) · A: signup, the previous period · 1 event" in \
        titles(html)
    totals = html[html.index('class="trend-totals"'):]
    assert "dashed: the previous period, 2026-03-09 00:00 to 2026-03-10 00:00 " \
        "(Europe/Berlin)" in " ".join(unescape(html).split())
    assert '<th scope="col">The previous period</th>' in totals
    assert "<td>2</td><td>1</td><td>+100.0%</td>" in totals
    assert '<th scope="col">A, the previous period</th>' in html


def test_bars_gaps_and_the_empty_state(logged_in, shop):
    _, html = page(logged_in, f"A=signup&B=purchase&{DAY}&display=bar")
    assert 'class="trend-chart bar"' in html
    assert len(re.findall(r'<rect class="bar"', html)) == 48 and "<circle" not in html
    assert 'selected>bars</option>' in html
    _, html = page(logged_in, f"A=purchase&A.measure=avg&A.property=amount&{DAY}")
    assert len(titles(html)) == 2  # an average of nothing is a gap: two hours have a value
    assert "<td>–</td>" in html
    status, html = page(logged_in, "A=signup&from=2026-02-01&to=2026-02-02")
    assert status == 200 and 'data-testid="trend-empty"' in html and "<svg" not in html
    assert "Widen the range" in html


def test_every_problem_is_listed_in_one_400(logged_in, shop):
    status, html = page(logged_in, "A=signup&A.measure=total&B.where=metadata.x=1"
                                   "&formula=A ** 2&interval=fortnight&display=pie")
    assert status == 400
    for words in ("A.measure is one of", "series B needs an event type", "formula",
                  "interval is one of", '"display" is one of line, bar, not "pie"'):
        assert words in unescape(html)
    assert "The trend did not run" in html and "<svg" not in html
    status, html = page(logged_in, "A=signup&display=pie", **{"HX-Request": "true"})
    assert status == 400 and "display" in html


def test_a_result_whose_range_includes_now_refetches_its_own_query_on_each_push(logged_in,
                                                                                  shop):
    _, html = page(logged_in, "A=signup&range=today")
    trigger = re.search(r'<div hidden hx-get="([^"]+)"\s+hx-trigger="sse:update"', html)
    assert trigger and unescape(trigger.group(1)) == f"{PAGE}?A=signup&range=today"
    assert 'id="report-live"' in html and 'sse-connect="/stream' in html
    assert trigger.start() > html.index('id="report-result"')  # swapped in with each result
    _, html = page(logged_in, f"A=signup&{DAY}")
    assert 'hx-trigger="sse:update"' not in html


def test_a_saved_trend_opens_and_its_share_link_shows_the_chart_logged_out(app, logged_in,
                                                                          shop):
    query = f"{TWO}&{DAY}&compare=previous&display=bar"
    _, html = page(logged_in, query)
    saved = logged_in.post("/projects/default/reports/trends/save",
                           data={"csrf_token": csrf_token(html), "name": "Shop day",
                                 "query": query})
    assert saved.status_code == 302
    _, listed = page(logged_in, "")
    link = re.search(r'<a href="(/projects/default/reports/trends\?[^"]+)">Shop day</a>',
                     listed).group(1)
    assert logged_in.get(unescape(link)).status_code == 200
    refused = logged_in.post("/projects/default/reports/trends/save",
                             data={"csrf_token": csrf_token(html), "name": "Pie",
                                   "query": "A=signup&display=pie"})
    assert refused.status_code == 400
    with app.app_context():
        from webapp.models import SavedReport
        from webapp.reports import saved as saved_reports

        report = SavedReport.get(SavedReport.name == "Shop day")
        token = saved_reports.share(report.project_id, report.id)
    shared = app.test_client().get(f"/share/{token}")
    html = shared.get_data(as_text=True)
    assert shared.status_code == 200 and 'class="trend-chart bar"' in html
    assert 'data-key="A compare"' in html and "1,234.8" in html
    assert "Save as" not in html and "trends.csv" not in html and "sse:update" not in html


def test_a_long_trends_result_carries_its_chart_and_stays_live(app, shop):
    """What a job's stream swaps in when a worker finished the trend (reports.result_html)."""
    from werkzeug.datastructures import MultiDict

    from webapp.models import Project
    from webapp.web.reports import result_html

    with app.test_request_context():
        project = Project.get()
        project.link = "default"  # as the pages' resolver names it
        html = result_html("trends", MultiDict([*MultiDict({"A": "signup", "display": "bar"})
                                                .items(), *(p.split("=") for p in
                                                            DAY.split("&"))]), project)
        today = result_html("trends", MultiDict({"A": "signup", "range": "today"}), project)
    assert 'class="trend-chart bar"' in html and 'hx-trigger="sse:update"' not in html
    assert 'data-testid="trend-empty"' in today and 'hx-trigger="sse:update"' in today
