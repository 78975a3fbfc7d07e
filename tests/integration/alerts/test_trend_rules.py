"""Rules on saved trends: a formula's threshold and spike fire through the real worker (its
beat's trend check) to a receiver that verifies the signature, and the threshold resolves; a
trend that cannot be computed is counted and written on its rule, never looped on; another
project's saved report is refused (and the schema refuses it too); deleting the saved trend
deletes its rules; the manage page saves and shows them."""

from __future__ import annotations

import html
import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from peewee import IntegrityError
from standardwebhooks import Webhook

from tests.helpers import INGEST_HEADERS, csrf_token, wait_until
from webapp import counters
from webapp.alerts import evaluate, oncommit, rules, trends
from webapp.models import AlertNotice, AlertRule, Project, SavedReport, iso
from webapp.reports import cache as report_cache
from webapp.reports import saved
from webapp.store import insert
from webapp.tenancy.tenants import create_project
from worker import alerting

REVENUE = ("A=purchase&A.measure=sum&A.property=amount&B=signup&formula=A / B"
           "&interval=day&range=30d")
PAGE = "/manage/projects/default"


@pytest.fixture
def no_worker(_worker_handle):
    """No worker: its beat would judge these rules meanwhile (a later test that needs one
    starts it again)."""
    _worker_handle.stop()


def make_rule(project, when: str, url: str = "http://127.0.0.1:9/none", name: str = "Watch",
              **extra) -> AlertRule:
    values, problems = rules.validate(
        {"name": name, "when": when, "url": url, **extra}, True,
        saved.outlines(project.id, project.time_zone, datetime.now(UTC)))
    assert problems == {}, problems
    return rules.create(project, values)


def day_events(day: datetime, signups: int, amounts: list[float]) -> list[dict]:
    """Signups and purchases (with their amounts) at noon UTC of `day`."""
    noon = iso(day.replace(hour=12))
    return ([{"eventType": "signup", "userId": f"s{i}", "timestamp": noon}
             for i in range(signups)]
            + [{"eventType": "purchase", "userId": f"p{i}", "timestamp": noon,
                "metadata": {"amount": amount}} for i, amount in enumerate(amounts)])


def away_from_midnight() -> datetime:
    """Today's start (UTC), at least two minutes before the next: a test whose "yesterday"
    must not change under it waits for the new day instead."""
    now = datetime.now(UTC)
    tomorrow = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    if tomorrow - now < timedelta(minutes=2):
        time.sleep((tomorrow - now).total_seconds() + 1)
    return datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def test_a_formulas_threshold_and_spike_fire_and_resolve_through_the_worker(
        app, client, project, worker, receiver):
    today = away_from_midnight()
    with app.app_context():
        saved.save(project.id, "Revenue per signup", "trends", REVENUE)
        over = make_rule(project, 'trend "Revenue per signup" formula > 30', receiver.url,
                         "Revenue high")
        spike = make_rule(project, 'trend "Revenue per signup" formula spike', receiver.url,
                          "Revenue spike")

    def post(events):
        answer = client.post("/webhook", data=json.dumps(events), headers=INGEST_HEADERS,
                             content_type="application/json")
        assert answer.status_code == 202

    # 10, 11, 9 and 10 a signup on four days, then 40 yesterday; nothing today
    for back, amounts in ((5, [20]), (4, [12, 10]), (3, [9, 9]), (2, [15, 5])):
        post(day_events(today - timedelta(days=back), 2, amounts))
    post(day_events(today - timedelta(days=1), 2, [50, 30]))

    fired = wait_until(lambda: len(receiver.of_type("alert.fired")) >= 2 and
                       receiver.of_type("alert.fired"), timeout=30, what="both rules to fire")
    by_rule = {delivery.json["data"]["rule"]["id"]: delivery for delivery in fired}
    assert set(by_rule) == {over.id, spike.id} and len(fired) == 2
    yesterday = (today - timedelta(days=1)).date().isoformat()
    threshold = Webhook(over.secret).verify(by_rule[over.id].body, by_rule[over.id].headers)
    data = threshold["data"]
    assert data["value"] == 40 and data["state"] == "firing"
    assert data["rule"]["trend"] == {"id": over.saved_report_id, "name": "Revenue per signup",
                                     "watches": "formula"}
    assert data["message"] == (
        f'Revenue high: trend "Revenue per signup" formula > 30: the formula A / B was 40 on '
        f"{yesterday} (UTC); the threshold is 30")
    spiked = Webhook(spike.secret).verify(by_rule[spike.id].body,
                                          by_rule[spike.id].headers)["data"]
    assert spiked["value"] == 40 and (
        f"the formula A / B was 40 on {yesterday} (UTC), against 10 ± 0.816 in 4 earlier "
        f"days, z = +36.7") in spiked["message"]

    # two more signups yesterday: 80 / 4 = 20, under the threshold, still a spike
    post(day_events(today - timedelta(days=1), 2, []))
    resolved = wait_until(lambda: receiver.of_type("alert.resolved"), timeout=30,
                          what="the threshold rule to resolve")
    body = Webhook(over.secret).verify(resolved[0].body, resolved[0].headers)["data"]
    assert body["rule"]["id"] == over.id and body["value"] == 20
    assert body["message"].startswith("Resolved: ") and "now the formula A / B was 20" in (
        body["message"])
    time.sleep(2)  # more checks: the spike stays firing, nothing is sent again
    assert len(receiver.of_type("alert.fired")) == 2
    assert len(receiver.of_type("alert.resolved")) == 1
    with app.app_context():
        assert AlertRule.get_by_id(spike.id).state == "firing"
        assert AlertRule.get_by_id(over.id).state == "ok"


def store(app, project_id: int, events: list[tuple[str, datetime, dict]]) -> None:
    """Events committed as the worker commits them: the report cache learns of their days."""
    payload = [{"id": f"e{time.monotonic_ns()}-{i}", "type": kind, "user": f"u{i}",
                "ts": iso(at), "meta": meta, "rcv": iso(at)}
               for i, (kind, at, meta) in enumerate(events)]
    insert.store_batch(project_id, payload)
    pipe = app.extensions["redis"].pipeline(transaction=False)
    report_cache.touch(pipe, project_id, payload)
    pipe.execute()


def failures(redis, reason: str) -> int:
    return int(redis.hget(counters.KEY, f"alert_trend_failed:{reason}") or 0)


def test_a_trend_too_slow_to_compute_is_counted_and_shown_not_looped(app, project, redis,
                                                                     no_worker, logged_in):
    today = away_from_midnight()
    yesterday = today - timedelta(hours=12)
    with app.app_context():
        report = saved.save(project.id, "Pro signups", "trends",
                            "A=signup&A.where=metadata.plan=pro&interval=day&range=7d")
        rule = make_rule(project, f"trend {report.id} A > 300")
        store(app, project.id, [("signup", yesterday, {"plan": "pro"})] * 301)
        calls = []

        def counted(limit):
            compute = alerting.computer(project.id, datetime.now(UTC), limit)
            return lambda report: calls.append(report.id) or compute(report)

        # 301 events read row by row are more than a millisecond's worth
        assert trends.evaluate(redis, project.id, datetime.now(UTC), counted(0.001),
                               0.001) == []
        assert calls == [report.id] and failures(redis, "too_slow") == 1
        problem = AlertRule.get_by_id(rule.id).problem
        assert problem == "computing the trend took longer than the 0.001 s a check allows"
    page = logged_in.get(PAGE).get_data(as_text=True)
    assert f"Not judged at the last check: {problem}" in page
    with app.app_context():
        (fired,) = trends.evaluate(redis, project.id, datetime.now(UTC), counted(10), 10)
        assert calls == [report.id, report.id] and failures(redis, "too_slow") == 1
        rule = AlertRule.get_by_id(rule.id)
        assert rule.problem is None and rule.state == "firing"
        assert AlertNotice.get_by_id(fired).value == 301


def test_rules_on_one_trend_compute_it_once_and_an_invalid_one_is_counted(app, project,
                                                                          redis, no_worker):
    with app.app_context():
        report = saved.save(project.id, "Signups", "trends", "A=signup&range=7d")
        first = make_rule(project, 'trend "Signups" A > 5')
        second = make_rule(project, 'trend "Signups" A drop', min_volume="0")
        # saved before a rule that it breaks (here: written straight into the table)
        broken = SavedReport.create(project=project, name="Broken", kind="trends",
                                    query="A=signup&A.measure=nonsense")
        stuck = AlertRule.create(project=project, saved_report=broken, series="A",
                                 name="stuck", kind="threshold", comparator=">", threshold=1,
                                 url="http://127.0.0.1:9/none", secret="s")
        calls = []
        compute = alerting.computer(project.id, datetime.now(UTC), 10)
        assert trends.evaluate(redis, project.id, datetime.now(UTC),
                               lambda report: calls.append(report.id) or compute(report),
                               10) == []
        assert sorted(calls) == [report.id, broken.id]
        assert failures(redis, "invalid") == 1
        assert AlertRule.get_by_id(stuck.id).problem.startswith(
            "the saved trend is no longer valid: A.measure is one of")
        assert {AlertRule.get_by_id(r.id).problem for r in (first, second)} == {None}
        # the checks of counts and the after-commit hook leave rules on trends alone
        assert evaluate.active_rules(project.id) == [] and evaluate.projects_with_rules() == []
        assert oncommit.load(project.id) is None
        assert trends.projects_with_rules() == [project.id]


def test_at_most_so_many_rules_on_trends_per_project(app, project, no_worker):
    with app.app_context():
        saved.save(project.id, "Signups", "trends", "A=signup&range=7d")
        for n in range(rules.MAX_TREND_RULES):
            make_rule(project, f'trend "Signups" A > {n}')
        values, problems = rules.validate(
            {"name": "one more", "when": 'trend "Signups" A > 99', "url": "http://x.test/"},
            True, saved.outlines(project.id, "UTC", datetime.now(UTC)))
        assert problems == {}
        with pytest.raises(ValueError, match=f"at most {rules.MAX_TREND_RULES} rules on saved"):
            rules.create(project, values)
        make_rule(project, "signup > 5 in 5 min")  # rules on counts are not limited so
        assert len(trends.watching(project.id)) == rules.MAX_TREND_RULES


def submit(client, data: dict, page: str = PAGE):
    token = csrf_token(client.get(page).get_data(as_text=True))
    return client.post(page + "/alerts", data={"name": "Watch", "url": "http://x.test/hook",
                                               **data, "csrf_token": token},
                       headers={"HX-Request": "true"})


def test_another_projects_saved_report_is_refused(app, project, logged_in, no_worker):
    with app.app_context():
        other = create_project(project.organization, "Other shop", "other-shop")
        theirs = saved.save(other.id, "Their revenue", "trends", REVENUE)
        ours = saved.save(project.id, "Our revenue", "trends", REVENUE)
    for when, problem in ((f"trend {theirs.id} A > 1", f"No saved report #{theirs.id} in this "
                                                       f"project"),
                          ('trend "Their revenue" A > 1', 'No saved trend named "Their '
                                                          'revenue" in this project (its saved '
                                                          'trends: "Our revenue")')):
        answer = submit(logged_in, {"when": when})
        assert answer.status_code == 400
        assert problem in html.unescape(answer.get_data(as_text=True))
    with app.app_context():
        assert AlertRule.select().count() == 0
        # nor can anything else write one: the foreign key holds the project
        with pytest.raises(IntegrityError):
            AlertRule.create(project=project, saved_report=theirs.id, series="A", name="x",
                             kind="threshold", comparator=">", threshold=1, url="http://x",
                             secret="s")
    assert submit(logged_in, {"when": f"trend {ours.id} formula > 1"}).status_code == 200
    # the same rule from the other project's page names its own report
    other_page = "/manage/projects/default/other-shop"
    answer = submit(logged_in, {"when": f"trend {ours.id} A > 1"}, page=other_page)
    assert answer.status_code == 400 and f"No saved report #{ours.id}" in answer.get_data(
        as_text=True)


def test_the_page_saves_and_shows_a_trend_rule_and_deleting_the_trend_deletes_it(
        app, project, logged_in, no_worker):
    with app.app_context():
        report = saved.save(project.id, "Revenue per signup", "trends", REVENUE)
        fixed = saved.save(project.id, "March", "trends",
                           "A=signup&from=2026-03-01&to=2026-03-31")
        saved.save(project.id, "Funnel", "funnel", "step=signup&step=purchase")
        counts = make_rule(project, "signup > 5 in 5 min")
    page = logged_in.get(PAGE).get_data(as_text=True)
    assert f"“Revenue per signup” (number <code>{report.id}</code>: A, B, formula)" in page
    assert (f"“March” (number <code>{fixed.id}</code>, cannot be watched: its range ends on a "
            "fixed date") in page
    assert f'value="trend {report.id} formula spike"' in page  # suggested to the When field
    answer = submit(logged_in, {"when": 'trend "March" A > 1'})
    assert answer.status_code == 400 and "(to=2026-03-31)" in answer.get_data(as_text=True)
    answer = submit(logged_in, {"when": 'trend "Revenue per signup" B < 2.5'})
    assert answer.status_code == 200
    assert "trend &#34;Revenue per signup&#34; B &lt; 2.5" in answer.get_data(as_text=True)
    with app.app_context():
        rule = AlertRule.get(AlertRule.saved_report == report.id)
        assert (rule.series, rule.kind, rule.comparator, str(rule.threshold),
                rule.window_minutes) == ("B", "threshold", "<", "2.5", None)
        AlertNotice.insert(rule=rule.id, project=project.id, kind="fired", value=1,
                           message="m").execute()
    token = csrf_token(logged_in.get("/projects/default/shares").get_data(as_text=True))
    answer = logged_in.post(f"/projects/default/saved-reports/{report.id}/delete",
                            data={"csrf_token": token})
    assert answer.status_code == 302
    with app.app_context():
        assert [r.id for r in AlertRule.select()] == [counts.id]
        assert AlertNotice.select().count() == 0
        assert Project.get_by_id(project.id) is not None


def test_the_cli_adds_and_lists_a_trend_rule_and_says_why_not(app, project, no_worker):
    with app.app_context():
        report = saved.save(project.id, "Revenue per signup", "trends", REVENUE)
        saved.save(project.id, "Funnel", "funnel", "step=signup&step=purchase")
    runner = app.test_cli_runner()
    added = runner.invoke(args=["alerts", "add", "default", "--name", "Revenue spike",
                                "--when", f"trend {report.id} formula spike", "--min-volume",
                                "0", "--url", "https://example.com/a"])
    assert added.exit_code == 0, added.output
    condition = 'trend "Revenue per signup" formula spike (z ≥ 3, volume ≥ 0)'
    assert condition in added.output and "whsec_" in added.output
    assert f"Revenue spike\t{condition}\tok" in runner.invoke(
        args=["alerts", "list", "default"]).output
    for when, problem in (('trend "Funnel" A > 1', 'when: "Funnel" is a saved funnel report, '
                                                   'not a trend.'),
                          (f"trend {report.id} C > 1", 'when: The saved trend "Revenue per '
                                                       'signup" has no series C (it has A, B, '
                                                       'formula).')):
        refused = runner.invoke(args=["alerts", "add", "default", "--name", "x", "--when", when,
                                      "--url", "https://example.com/a"])
        assert refused.exit_code == 2 and problem in refused.output, refused.output
    with app.app_context():
        assert AlertRule.select().count() == 1


def test_a_projects_check_is_not_joined_while_one_runs(app, project, redis, no_worker):
    today = away_from_midnight()
    with app.app_context():
        report = saved.save(project.id, "Signups", "trends", "A=signup&range=7d")
        rule = make_rule(project, f"trend {report.id} A > 0")
        store(app, project.id, [("signup", today - timedelta(hours=12), {})])
        redis.set(alerting.running_key(project.id), 1)  # another worker checks the project
        assert alerting.evaluate_trends(project.id) == []
        assert AlertRule.get_by_id(rule.id).state == "ok"
        redis.delete(alerting.running_key(project.id))
        (fired,) = alerting.evaluate_trends(project.id)
        assert AlertNotice.get_by_id(fired).rule_id == rule.id
        assert redis.get(alerting.running_key(project.id)) is None  # released
