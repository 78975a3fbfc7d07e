"""/webhook limits: in requests and in events, a burst allowance, per-key and per-project
overrides from the management page and the CLI."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.conftest import start_gunicorn, stop_process
from tests.helpers import INGEST_KEY, csrf_token
from webapp import create_app
from webapp.models import ApiKey, Project
from webapp.tenancy import credentials
from webapp.tenancy.tenants import TenantError, create_key, limit_errors, set_limits


def limited_app(services, **limits):
    return create_app({"DATABASE_URL": services.database_url, "REDIS_URL": services.redis_url,
                       **limits}, test=True)


def post(client, events: int = 1, key: str = INGEST_KEY) -> int:
    body = [{"eventType": "a", "userId": str(n)} for n in range(events)]
    return client.post("/webhook", data=json.dumps(body[0] if events == 1 else body),
                       headers={"X-API-Key": key}, content_type="application/json")


def codes(client, events: int, times: int, key: str = INGEST_KEY) -> list[int]:
    return [post(client, events, key).status_code for _ in range(times)]


def test_events_are_counted_as_well_as_requests(services, project):
    client = limited_app(services, WEBHOOK_RATE_LIMIT="100 per minute",
                         WEBHOOK_EVENT_LIMIT="10 per minute").test_client()
    assert codes(client, 6, 1) == [202]
    refused = post(client, 6)
    assert refused.status_code == 429
    assert refused.get_json()["message"] == "Rate limit exceeded: 10 per 1 minute events"
    assert refused.headers["X-RateLimit-Limit"] == "10"
    assert refused.headers["X-RateLimit-Remaining"] == "4"
    # two more events' room frees in 60 / 10 * 2 = 12 s
    assert int(refused.headers["Retry-After"]) == 12
    assert codes(client, 4, 1) == [202]  # what still fits is accepted


def test_a_burst_up_to_the_window_is_accepted_then_refused(services, project):
    client = limited_app(services, WEBHOOK_RATE_LIMIT="5 per 10 seconds").test_client()
    assert codes(client, 1, 6) == [202] * 5 + [429]


def test_a_key_and_its_project_have_their_own_limits(app, services, project):
    client = limited_app(services, WEBHOOK_RATE_LIMIT="100 per minute").test_client()
    with app.app_context():
        _, other = create_key(project, "ingest", "other")
        own = ApiKey.get(ApiKey.name == "other").id
        set_limits(project, "2 per minute", "")
        set_limits(project, "3 per minute", "", key_id=own)
    credentials.forget_keys()
    assert codes(client, 1, 3) == [202, 202, 429]  # the project's
    assert codes(client, 1, 4, key=other) == [202, 202, 202, 429]  # the key's own
    with app.app_context():
        set_limits(project, "", "")
        assert Project.get_by_id(project.id).request_limit is None
        with pytest.raises(TenantError, match="is not a limit"):
            set_limits(project, "lots", "")
        with pytest.raises(TenantError, match="no ingest key"):
            set_limits(project, "1 per second", "", key_id=own + 100)
    credentials.forget_keys()
    assert codes(client, 1, 1) == [202]  # the default again


def test_limit_errors_name_each_bad_field():
    assert limit_errors("", "") == {}
    assert limit_errors("5000 per second", "50000 per 10 seconds; 1000000 per hour") == {}
    assert set(limit_errors("fast", "x per y")) == {"request_limit", "event_limit"}
    assert set(limit_errors("1 per second", "9" * 201)) == {"event_limit"}


def test_the_management_page_sets_and_validates_limits(app, logged_in, project):
    page = logged_in.get(f"/manage/projects/{project.slug}").get_data(as_text=True)
    assert "Rate limits" in page and "200000 per 10 seconds" in page
    token = csrf_token(page)
    url = f"/manage/projects/{project.slug}/limits"
    bad = logged_in.post(url, data={"csrf_token": token, "request_limit": "very many",
                                    "event_limit": ""}, headers={"HX-Request": "true"})
    assert bad.status_code == 400 and "is not a limit" in bad.get_data(as_text=True)
    with app.app_context():
        key = ApiKey.get(ApiKey.kind == "ingest")
    saved = logged_in.post(url, data={"csrf_token": token, "key_id": key.id,
                                      "request_limit": "7 per second",
                                      "event_limit": "70 per second"},
                           headers={"HX-Request": "true"})
    assert saved.status_code == 200 and 'value="7 per second"' in saved.get_data(as_text=True)
    with app.app_context():
        assert ApiKey.limits_for(INGEST_KEY) == ("7 per second", "70 per second")
        assert Project.limits_for(project.id) == (None, None)
    unsigned = logged_in.post(url, data={"request_limit": "1 per second"})
    assert unsigned.status_code == 400  # CSRF


def test_the_cli_shows_and_sets_limits(app, project):
    runner = app.test_cli_runner()
    shown = runner.invoke(args=["projects", "limits", project.slug])
    assert shown.exit_code == 0
    assert re.search(r"requests: the default \(default 200000 per 10 seconds\)", shown.output)
    with app.app_context():
        key = ApiKey.get(ApiKey.kind == "ingest")
    changed = runner.invoke(args=["projects", "limits", project.slug, "--key", str(key.id),
                                  "--events", "500 per second"])
    assert changed.exit_code == 0, changed.output
    assert "events: 500 per second" in changed.output
    assert "requests: its project's, else the default" in changed.output
    with app.app_context():
        assert ApiKey.limits_for(INGEST_KEY) == (None, "500 per second")
    bad = runner.invoke(args=["projects", "limits", project.slug, "--requests", "soon"])
    assert bad.exit_code != 0 and "is not a limit" in bad.output


UNUSABLE = {"0 per second": "the count must be at least 1",
            "1 per 99999999999999999999 seconds": "a period longer than a day",
            "1 per 2 days": "a period longer than a day",
            "5 per second; 0 per minute": "the count must be at least 1",
            "1 per 0 seconds": "a period of 0",
            "99999999999999999999 per second": "counts past 1,000,000,000"}


def test_a_limit_that_allows_nothing_or_counts_nothing_is_refused_when_saved(app, logged_in,
                                                                              project):
    for text, why in UNUSABLE.items():
        assert why in limit_errors(text, "")["request_limit"], text
        assert why in limit_errors("", text)["event_limit"], text
    assert limit_errors("1 per day", "86400 per 86400 seconds; 10/second") == {}
    # the page
    url = f"/manage/projects/{project.slug}/limits"
    token = csrf_token(logged_in.get(f"/manage/projects/{project.slug}").get_data(as_text=True))
    for text, why in UNUSABLE.items():
        answer = logged_in.post(url, data={"csrf_token": token, "request_limit": "",
                                           "event_limit": text}, headers={"HX-Request": "true"})
        assert answer.status_code == 400 and why in answer.get_data(as_text=True), text
    # the command line
    runner = app.test_cli_runner()
    for text, why in UNUSABLE.items():
        refused = runner.invoke(args=["projects", "limits", project.slug, "--events", text])
        assert refused.exit_code == 2 and why in refused.output, refused.output
        assert "Traceback" not in refused.output
    with app.app_context():
        assert ApiKey.limits_for(INGEST_KEY) == Project.limits_for(project.id) == (None, None)
        with pytest.raises(TenantError, match="at least 1"):
            set_limits(project, "0 per second", "")


def test_a_stored_limit_that_is_not_usable_gives_way_to_the_default(app, services, project):
    """Limits saved before they were checked: the ingest path neither fails (a count of 0
    divided by zero on every request) nor goes unlimited (a window Redis cannot expire)."""
    client = limited_app(services, WEBHOOK_RATE_LIMIT="2 per minute",
                         WEBHOOK_EVENT_LIMIT="1000 per minute").test_client()
    with app.app_context():
        Project.update(request_limit="1 per 99999999999999999999 seconds",
                       event_limit="0 per second").where(Project.id == project.id).execute()
    credentials.forget_keys()
    assert codes(client, 1, 3) == [202, 202, 429]  # the defaults, enforced
    with app.app_context():
        ApiKey.update(request_limit="0 per second").execute()
    credentials.forget_keys()
    assert codes(client, 1, 1) == [429]  # still the default's window, not a 500


def test_a_configured_default_that_is_not_usable_stops_the_start(services):
    with pytest.raises(ValueError, match="WEBHOOK_EVENT_LIMIT='0 per second' allows no"):
        limited_app(services, WEBHOOK_EVENT_LIMIT="0 per second")



def test_under_gevent_each_key_is_held_to_its_own_limit(app, services, project):
    """Groups are per sender and limit: a key's override holds while another key's requests
    share the same web process."""
    with app.app_context():
        _, slow = create_key(project, "ingest", "slow")
        set_limits(project, "3 per minute", "", key_id=ApiKey.get(ApiKey.name == "slow").id)
    server = start_gunicorn(services)
    try:
        def send(key: str) -> int:
            request = urllib.request.Request(
                server.url + "/webhook", data=b'{"eventType": "a", "userId": "1"}',
                method="POST", headers={"X-API-Key": key, "Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    return response.status
            except urllib.error.HTTPError as error:
                return error.code

        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(send, [slow, INGEST_KEY] * 8))
        # a group that would go past the limit is refused as a whole: at most 3 get through
        slow_answers = answers[0::2]
        assert 1 <= slow_answers.count(202) <= 3
        assert slow_answers.count(429) == 8 - slow_answers.count(202)
        assert answers[1::2] == [202] * 8
    finally:
        stop_process(server.process)
