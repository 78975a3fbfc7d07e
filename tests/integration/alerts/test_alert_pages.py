"""Managing alert rules on the project's page (htmx and plain forms) and from the CLI."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT
from tests.helpers import csrf_token
from webapp.models import AlertNotice, AlertRule

PAGE = "/manage/projects/default"
GOOD = {"name": "Errors", "when": "error > 100 in 5 min", "where": "plan=pro",
        "url": "https://example.com/hooks", "format": "slack", "max_per_day": "3"}


def submit(client, path: str, data: dict, htmx: bool = False):
    token = csrf_token(client.get(PAGE).get_data(as_text=True))
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(path, data={**data, "csrf_token": token}, headers=headers)


def test_every_problem_listed_and_nothing_saved(app, logged_in):
    response = submit(logged_in, PAGE + "/alerts",
                      {"name": "", "when": "error >> 5", "where": "plan", "url": "ftp://x",
                       "format": "xml", "max_per_day": "0"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "6 problems" in html
    for text in ("Name the rule", "write the condition as", "key=value", "http:// or https://",
                 "Choose standard or slack", "between 1 and 1000"):
        assert text.lower() in html.lower(), text
    with app.app_context():
        assert AlertRule.select().count() == 0


def test_create_pause_resume_delete(app, logged_in):
    response = submit(logged_in, PAGE + "/alerts", GOOD, htmx=True)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.startswith('\n<section id="alerts"') or html.lstrip().startswith(
        '<section id="alerts"')  # htmx gets the section only
    with app.app_context():
        rule = AlertRule.get()
    assert rule.secret in html and rule.secret.startswith("whsec_")  # shown once
    assert (rule.kind, rule.event_type, rule.comparator, rule.threshold, rule.window_minutes,
            rule.property_key, rule.property_value, rule.body_format, rule.max_per_day) == (
        "threshold", "error", ">", 100, 5, "plan", "pro", "slack", 3)
    page = logged_in.get(PAGE).get_data(as_text=True)
    assert "error &gt; 100 in 5 min where plan=pro" in page and rule.secret not in page

    assert submit(logged_in, f"{PAGE}/alerts/{rule.id}/pause", {}).status_code == 200
    with app.app_context():
        assert not AlertRule.get_by_id(rule.id).active
    assert submit(logged_in, f"{PAGE}/alerts/{rule.id}/resume", {}).status_code == 200
    with app.app_context():
        assert AlertRule.get_by_id(rule.id).active
    assert submit(logged_in, f"{PAGE}/alerts/{rule.id}/delete", {}).status_code == 200
    assert submit(logged_in, f"{PAGE}/alerts/{rule.id}/delete", {}).status_code == 404
    with app.app_context():
        assert AlertRule.select().count() == 0


def test_private_destinations_refused_unless_allowed(app, logged_in, monkeypatch):
    monkeypatch.setitem(app.config, "ALERTS_ALLOW_PRIVATE_DESTINATIONS", False)
    for url in ("http://127.0.0.1:9/x", "http://localhost/x", "http://10.1.2.3/x",
                "http://[::1]/x", "http://169.254.169.254/latest", "http://[::ffff:192.168.0.1]/"):
        response = submit(logged_in, PAGE + "/alerts", {**GOOD, "url": url})
        assert response.status_code == 400, url
        assert "private or loopback" in response.get_data(as_text=True), url
    monkeypatch.setitem(app.config, "ALERTS_ALLOW_PRIVATE_DESTINATIONS", True)
    assert submit(logged_in, PAGE + "/alerts",
                  {**GOOD, "url": "http://127.0.0.1:9/x"}).status_code == 200


def test_destinations_carrying_a_private_ipv4_or_an_invalid_host_are_refused(app, logged_in,
                                                                              monkeypatch):
    monkeypatch.setitem(app.config, "ALERTS_ALLOW_PRIVATE_DESTINATIONS", False)
    for url in ("http://[::127.0.0.1]/", "http://[::ffff:0:127.0.0.1]/",
                "http://[64:ff9b::127.0.0.1]/", "http://[64:ff9b::a00:1]/",
                "http://[2002:7f00:1::]/", "http://[2002:a9fe:a9fe::]/"):
        response = submit(logged_in, PAGE + "/alerts", {**GOOD, "url": url})
        assert response.status_code == 400, url
        assert "private or loopback" in response.get_data(as_text=True), url
    response = submit(logged_in, PAGE + "/alerts",
                      {**GOOD, "url": f"https://{'a' * 300}.example.com/hook"})
    assert response.status_code == 400
    assert "Not a valid host name" in response.get_data(as_text=True)
    with app.app_context():
        assert AlertRule.select().count() == 0


def test_a_threshold_past_64_bits_is_refused(app, logged_in):
    response = submit(logged_in, PAGE + "/alerts",
                      {**GOOD, "when": "error > 99999999999999999999 in 5 min"})
    assert response.status_code == 400
    assert "The count is at most 9,223,372,036,854,775,807." in response.get_data(as_text=True)
    with app.app_context():
        assert AlertRule.select().count() == 0
    response = submit(logged_in, PAGE + "/alerts",
                      {**GOOD, "when": "error > 9223372036854775807 in 5 min"})
    assert response.status_code == 200
    with app.app_context():
        assert AlertRule.get().threshold == 2**63 - 1


def test_cli_refuses_a_threshold_past_64_bits(services, app, project):
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "webapp.wsgi", "alerts", "add", "default",
         "--name", "Huge", "--when", "error > 99999999999999999999 in 5 min",
         "--url", "https://example.com/hook"],
        cwd=ROOT, env=services.env(), capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert "when: The count is at most 9,223,372,036,854,775,807." in done.stderr
    assert "Traceback" not in done.stderr
    with app.app_context():
        assert AlertRule.select().count() == 0


def test_cli_add_list_log_and_set(app, project):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["alerts", "add", "default", "--name", "Quiet",
                                 "--when", "signup < 1 in 12 h", "--url", "https://example.com/a"])
    assert result.exit_code == 0, result.output
    assert "signup < 1 in 12 h" in result.output and "whsec_" in result.output
    bad = runner.invoke(args=["alerts", "add", "default", "--name", "x", "--when", "nope",
                              "--url", "https://example.com", "--where", "a=b"])
    assert bad.exit_code != 0 and "when:" in bad.output
    listed = runner.invoke(args=["alerts", "list", "default"])
    assert "#1\tQuiet\tsignup < 1 in 12 h\tok\thttps://example.com/a" in listed.output
    with app.app_context():
        AlertNotice.create(rule=1, project=project.id, kind="fired", value=0, message="m",
                           status="delivered", attempts=2, last_code=200)
    assert "Quiet\tfired\tdelivered\t2 attempt(s)\t200" in runner.invoke(
        args=["alerts", "log", "default"]).output
    assert runner.invoke(args=["alerts", "set", "default", "1", "pause"]).exit_code == 0
    assert "paused" in runner.invoke(args=["alerts", "list", "default"]).output
    assert runner.invoke(args=["alerts", "set", "default", "9", "delete"]).exit_code != 0


def test_only_managers_of_the_project_touch_its_rules(app, client, admin, project):
    from tests.helpers import login
    from webapp.alerts import rules
    from webapp.models import Membership
    from webapp.tenancy.accounts import create_user
    from webapp.tenancy.tenants import create_organization, create_project

    with app.app_context():
        other = create_project(create_organization("Other Corp", "other"), "Other", "other")
        values, _ = rules.validate({"name": "theirs", "when": "a > 1 in 1 min",
                                    "url": "https://example.com/"}, True)
        theirs = rules.create(other, values)
        viewer = create_user("viewer@example.test", "a viewer password")
        Membership.create(user=viewer, organization=project.organization, role="viewer")
    login(client, "viewer@example.test", "a viewer password")
    token = csrf_token(client.get("/").get_data(as_text=True))
    assert client.post(PAGE + "/alerts", data={**GOOD, "csrf_token": token}).status_code == 403
    client.post("/logout", data={"csrf_token": token})
    from tests.helpers import ADMIN_EMAIL, ADMIN_PASSWORD

    login(client, ADMIN_EMAIL, ADMIN_PASSWORD)
    token = csrf_token(client.get(PAGE).get_data(as_text=True))
    for path in (f"/manage/projects/other/alerts/{theirs.id}/delete",
                 f"{PAGE}/alerts/{theirs.id}/delete"):  # not a rule of this project
        assert client.post(path, data={"csrf_token": token}).status_code == 404
    with app.app_context():
        assert AlertRule.get_by_id(theirs.id).name == "theirs"


def test_send_a_test_message(app, logged_in, worker, receiver):
    from standardwebhooks import Webhook

    from tests.helpers import wait_until

    assert submit(logged_in, PAGE + "/alerts", {**GOOD, "where": "", "format": "standard",
                                                "url": receiver.url}).status_code == 200
    with app.app_context():
        rule = AlertRule.get()
    assert submit(logged_in, f"{PAGE}/alerts/{rule.id}/test", {}, htmx=True).status_code == 200
    (sent,) = wait_until(lambda: receiver.deliveries, timeout=10, what="the test message")
    payload = Webhook(rule.secret).verify(sent.body, sent.headers)
    assert payload["type"] == "alert.test" and payload["data"]["state"] == "test"
    assert payload["data"]["message"] == "Test of Errors: error > 100 in 5 min"
    with app.app_context():
        wait_until(lambda: AlertNotice.get().status == "delivered", what="the log to say so")
    assert "delivered" in logged_in.get(PAGE).get_data(as_text=True)
    assert submit(logged_in, f"{PAGE}/alerts/999/test", {}).status_code == 404
