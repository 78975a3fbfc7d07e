"""Report routes: JSON under the read token, CSV, and the project's pages with and without htmx."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.helpers import READ_HEADERS
from webapp.models import iso

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def history(app, project):
    """Three users: two sign up and view, one of them buys (on the pro plan)."""
    from webapp.store.insert import store_batch

    def at(minutes: int) -> str:
        return iso(NOW - timedelta(minutes=minutes))

    events = [("signup", "ann", 50, {"plan": "pro"}), ("view", "ann", 40, {"page": "/pricing"}),
              ("buy", "ann", 30, {"plan": "pro"}), ("signup", "bob", 45, {"plan": "free"}),
              ("view", "bob", 44, {"page": "/docs"}), ("view", "cy/1", 5, {"page": "/pricing"})]
    with app.app_context():
        store_batch(project.id, [{"id": f"h{i}", "type": t, "user": u, "ts": at(m),
                                  "meta": meta, "rcv": at(0)}
                                 for i, (t, u, m, meta) in enumerate(events)])
    return events


FUNNEL = "/reports/funnel?step=signup&step=view&step=buy&window=1h"


def test_funnel_json_counts_each_step(client, history):
    answer = client.get(FUNNEL + "&breakdown=plan", headers=READ_HEADERS)
    assert answer.status_code == 200, answer.get_json()
    data = answer.get_json()["data"]
    assert [s["users"] for s in data["steps"]] == [2, 2, 1]
    assert data["steps"][2]["medianSeconds"] == 20 * 60
    assert data["previous"]["steps"][0]["users"] == 0
    assert [(g["value"], g["steps"]) for g in data["breakdown"]] == [
        ("free", [1, 1, 0]), ("pro", [1, 1, 1])]
    assert data["timeZone"] == "UTC"


def test_a_step_condition_and_a_property_filter_narrow_the_funnel(client, history):
    data = client.get(FUNNEL + "&step1.where=metadata.plan=pro",
                      headers=READ_HEADERS).get_json()["data"]
    assert [s["users"] for s in data["steps"]] == [1, 1, 1]
    data = client.get("/reports/breakdown?property=page&where=metadata.page^=/pri",
                      headers=READ_HEADERS).get_json()["data"]
    assert [(v["value"], v["count"], v["uniqueUsers"]) for v in data["values"]] == [
        ("/pricing", 2, 2)]


def test_every_problem_is_listed_in_one_400(client, history):
    answer = client.get("/reports/funnel?step=signup&window=forever&mode=loose&from=yesterday"
                        "&where=page=/x", headers=READ_HEADERS)
    assert answer.status_code == 400
    messages = " | ".join(e["message"] for e in answer.get_json()["errors"])
    for word in ('"from"', '"where"', '"window"', "2 to 8 steps", "mode"):
        assert word in messages
    assert client.get("/reports/nothing", headers=READ_HEADERS).status_code == 404
    assert client.get(FUNNEL).status_code == 401


def test_retention_paths_and_csv(client, history):
    data = client.get("/reports/retention?start=signup&unit=day&periods=2",
                      headers=READ_HEADERS).get_json()["data"]
    assert sum(c["users"] for c in data["cohorts"]) == 2
    data = client.get("/reports/paths?event=signup&depth=2",
                      headers=READ_HEADERS).get_json()["data"]
    assert {tuple(p["events"]): p["users"] for p in data["paths"]} == {
        ("signup", "view", "buy"): 1, ("signup", "view"): 1}
    answer = client.get(FUNNEL.replace("/funnel?", "/funnel.csv?"), headers=READ_HEADERS)
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(answer.get_data(as_text=True))))
    assert rows[0][:4] == ["step", "eventType", "conditions", "users"]
    assert [r[3] for r in rows[1:]] == ["2", "2", "1"]


def test_user_timeline_json_pages_newest_first(client, history):
    data = client.get("/users/ann?limit=2", headers=READ_HEADERS).get_json()["data"]
    assert [e["eventType"] for e in data["events"]] == ["buy", "view"]
    assert data["totalEvents"] == 3 and data["nextCursor"]
    rest = client.get(f"/users/ann?limit=2&cursor={data['nextCursor']}",
                      headers=READ_HEADERS).get_json()["data"]
    assert [e["eventType"] for e in rest["events"]] == ["signup"]
    assert client.get("/users/cy/1", headers=READ_HEADERS).get_json()["data"]["totalEvents"] == 1
    assert client.get("/users/ann?cursor=bad", headers=READ_HEADERS).status_code == 400


def test_each_listed_event_links_to_its_users_timeline(client, history):
    events = client.get("/events?filter=day", headers=READ_HEADERS).get_json()["data"]["events"]
    links = {e["userId"]: e["links"]["user"] for e in events}
    assert links == {"ann": "/users?id=ann", "bob": "/users?id=bob", "cy/1": "/users?id=cy%2F1"}
    timeline = client.get(links["cy/1"], headers=READ_HEADERS).get_json()["data"]
    assert (timeline["userId"], timeline["totalEvents"]) == ("cy/1", 1)
    named = client.get("/events?filter=day&project=default", headers=READ_HEADERS)
    assert named.get_json()["data"]["events"][0]["links"]["user"].endswith("&project=default")


@pytest.mark.parametrize("query", ["retention?periods=%C2%B2", "paths?event=a&depth=9" + "9" * 20,
                                   "breakdown?property=p&limit=%D9%A3"])
def test_a_whole_number_in_other_digits_or_too_long_is_a_400(client, history, query):
    answer = client.get(f"/reports/{query}", headers=READ_HEADERS)
    assert answer.status_code == 400 and "whole number" in answer.get_json()["errors"][0][
        "message"]


def test_report_pages_work_as_plain_forms_and_with_htmx(logged_in, history):
    page = logged_in.get("/projects/default/reports/funnel")
    assert page.status_code == 200 and 'hx-get="/projects/default/reports/funnel"' in \
        page.get_data(as_text=True)
    query = "?step=signup&step=view&step=buy&window=1h"
    for headers in ({}, {"HX-Request": "true"}):
        html = logged_in.get("/projects/default/reports/funnel" + query,
                             headers=headers).get_data(as_text=True)
        assert 'id="report-result"' in html and '<th scope="row">1. signup</th>' in html
        assert "step=signup&amp;step=view&amp;step=buy" in html  # CSV link keeps every step
    html = logged_in.get("/projects/default/reports/paths?event=signup").get_data(as_text=True)
    assert "<svg class=\"paths\"" in html and "signup → view → buy: 1 user" in html
    bad = logged_in.get("/projects/default/reports/funnel?step=signup")
    assert bad.status_code == 400 and "2 to 8 steps" in bad.get_data(as_text=True)


def test_user_page_and_its_link_from_recent_events(logged_in, history):
    html = logged_in.get("/?filter=hour").get_data(as_text=True)
    assert 'href="/projects/default/default/users?id=cy/1"' in html
    page = logged_in.get("/projects/default/default/users?id=cy/1")
    assert page.status_code == 200 and "/pricing" in page.get_data(as_text=True)
    older = logged_in.get("/projects/default/users/cy/1?limit=5")  # the older form of link
    assert older.status_code == 302
    assert older.location == "/projects/default/users?limit=5&id=cy/1"


def test_stats_events_and_export_take_a_range_in_the_project_zone(app, client, history,
                                                                  project):
    from webapp.tenancy.tenants import set_time_zone

    with app.app_context():
        set_time_zone(project, "Asia/Kathmandu")
    start, end = iso(NOW - timedelta(minutes=46)), iso(NOW - timedelta(minutes=29))
    data = client.get(f"/events/stats?from={start}&to={end}&bucket=hour",
                      headers=READ_HEADERS).get_json()["data"]
    assert (data["totalEvents"], data["uniqueUsers"], data["timeZone"]) == (4, 2,
                                                                            "Asia/Kathmandu")
    assert data["statistics"] == {"buy": 1, "signup": 1, "view": 2}
    assert all(p["local"].endswith("+05:45") for p in data["series"])
    assert data["previous"]["totalEvents"] == 1  # ann signed up 50 minutes ago
    listed = client.get(f"/events?from={start}&to={end}", headers=READ_HEADERS).get_json()
    assert len(listed["data"]["events"]) == 4
    exported = client.get(f"/events/export?format=ndjson&from={start}&to={end}",
                          headers=READ_HEADERS).get_data(as_text=True)
    assert len(exported.splitlines()) == 4
    bad = client.get("/events/stats?from=2026-02-30&bucket=year", headers=READ_HEADERS)
    assert bad.status_code == 400


def test_reports_are_cached_until_a_commit_changes_what_they_cover(app, client, redis,
                                                                    history, project):
    from webapp.reports import cache
    from webapp.store.insert import store_batch
    from webapp.store.partitions import name_of

    def commit(event_id: str, moment: datetime) -> None:
        """What the worker does: insert, then count the commit for the events' days."""
        event = {"id": event_id, "type": "buy", "user": "bob", "meta": {}, "ts": iso(moment),
                 "rcv": iso(NOW)}
        with app.app_context():
            store_batch(project.id, [event])
        pipe = redis.pipeline()
        cache.touch(pipe, project.id, [event])
        pipe.execute()

    def funnel() -> dict:
        return client.get(report, headers=READ_HEADERS).get_json()["data"]

    today = NOW.date()  # three days, beside the three before them
    report = f"{FUNNEL}&from={today - timedelta(days=2)}&to={today}"
    first, again = funnel(), funnel()
    assert (first["cached"], again["cached"]) == (False, True)
    assert again["steps"] == first["steps"]
    commit("long-ago", NOW - timedelta(days=30))  # outside both periods: the result stands
    assert funnel()["cached"] is True
    commit("previous", NOW - timedelta(days=4))  # inside the period compared with it
    assert funnel()["cached"] is False
    assert funnel()["cached"] is True
    commit("late", NOW - timedelta(minutes=20))
    fresh = funnel()
    assert fresh["cached"] is False
    assert [s["users"] for s in fresh["steps"]] == [2, 2, 2]
    assert funnel()["cached"] is True
    with app.app_context():  # an expired partition dropped: its day counts as touched
        cache.forget(redis, {"emptied": False, "dropped": [name_of(today - timedelta(days=40))]})
        assert funnel()["cached"] is True  # a day the report does not cover
        cache.forget(redis, {"emptied": False, "dropped": [name_of(today - timedelta(days=1))]})
        assert funnel()["cached"] is False
        assert funnel()["cached"] is True
        cache.forget(redis, {"emptied": True, "dropped": []})  # the default partition emptied
        assert funnel()["cached"] is False


def test_the_dashboard_shows_a_range_in_the_project_zone(app, logged_in, project):
    from webapp.tenancy.tenants import set_time_zone

    with app.app_context():
        set_time_zone(project, "America/New_York")
    for day, hours in (("2026-03-08", 23), ("2026-11-01", 25), ("2026-11-02", 24)):
        html = logged_in.get(f"/?from={day}&to={day}&bucket=hour").get_data(as_text=True)
        assert f'data-buckets="{hours}"' in html, day
        assert "sse-connect" not in html and "America/New_York" in html
    assert logged_in.get("/?from=2026-13-01").status_code == 400


def test_conditions_of_a_step_not_given_are_still_read(client, history):
    answer = client.get("/reports/funnel?step=signup&step=&step=buy&step2.where=metadata.a=1"
                        "&step7.where=nonsense", headers=READ_HEADERS)
    messages = [e["message"] for e in answer.get_json()["errors"]]
    assert answer.status_code == 400
    assert any('"step7.where" must look like' in m for m in messages)
    assert '"step2.where" names no step' in messages


def test_report_and_timeline_pages_show_times_in_the_project_zone(app, logged_in, history,
                                                                  project):
    from webapp.tenancy.tenants import set_time_zone

    with app.app_context():
        set_time_zone(project, "Asia/Kathmandu")  # +05:45
    html = logged_in.get("/projects/default/reports/breakdown?property=page"
                         "&from=2026-03-01&to=2026-03-01").get_data(as_text=True)
    assert "2026-03-01 00:00 to 2026-03-02 00:00 (Asia/Kathmandu)" in html
    html = logged_in.get("/projects/default/users?id=ann").get_data(as_text=True)
    signup = (NOW - timedelta(minutes=50)).astimezone(ZoneInfo("Asia/Kathmandu"))
    assert f'{signup:%Y-%m-%d %H:%M:%S}</time>' in html
    assert f'{signup:%Y-%m-%d %H:%M}</time> · last seen' in html
    assert "Time (Asia/Kathmandu)" in html
