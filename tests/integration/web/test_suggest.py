"""Pickers: event types, property keys and top values of a project, as JSON under the read
token and as `<datalist>` fragments for the pages, filled by the real worker as it stores
events; another project's never show; bad questions are refused with a 4xx."""

from __future__ import annotations

import json
import re
from html import unescape

import pytest
from flask import render_template_string
from werkzeug.datastructures import MultiDict

from tests.helpers import (
    INGEST_HEADERS,
    READ_HEADERS,
    login,
    wait_stored,
    wait_until,
)
from webapp import create_app
from webapp.dev.servers import free_port
from webapp.models import Membership
from webapp.store.properties import MAX_KEYS
from webapp.tenancy.accounts import create_user
from webapp.tenancy.tenants import create_key, create_organization, create_project
from webapp.web import suggest

pytestmark = pytest.mark.usefixtures("worker")


def post(client, headers, events: list[dict]) -> None:
    answer = client.post("/webhook", data=json.dumps(events), headers=headers,
                         content_type="application/json")
    assert answer.status_code == 202, answer.get_data(as_text=True)


def suggested(client, path: str, headers=READ_HEADERS) -> dict[str, int]:
    answer = client.get(path, headers=headers)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return {s["value"]: s["count"] for s in answer.get_json()["data"]["suggestions"]}


def options(html: str) -> dict[str, str]:
    """value -> label of a fragment's options."""
    return {unescape(value): unescape(label) for value, label in
            re.findall(r'<option value="([^"]*)">([^<]*)</option>', html)}


SIGNUPS = [
    {"eventType": "signup", "userId": "1", "metadata": {"plan": "pro", "amount": 3,
                                                        "price": 1.5, "trial": True}},
    {"eventType": "signup", "userId": "2", "metadata": {"plan": "pro", "nested": {"a": 1}}},
    {"eventType": "signup", "userId": "3", "metadata": {"plan": "free", "Plan Name": "Pro"}},
    {"eventType": "view", "userId": "1", "metadata": {"page": "/pricing"}},
    {"eventType": "view", "userId": "2"},
]


def test_the_index_fills_as_the_worker_stores_events(app, client, project):
    post(client, INGEST_HEADERS, SIGNUPS)
    wait_stored(app, 5)
    wait_until(lambda: "page" in suggested(client, "/suggest/keys"), what="the index")
    assert suggested(client, "/suggest/keys") == {
        "plan": 3, "amount": 1, "price": 1, "trial": 1, "nested": 1, "Plan Name": 1, "page": 1}
    answer = client.get("/suggest/values?key=plan", headers=READ_HEADERS).get_json()["data"]
    assert answer["key"] == "plan" and answer["approximate"] is True
    assert [(s["value"], s["count"]) for s in answer["suggestions"]] == [("pro", 2), ("free", 1)]
    # values as a condition compares them; no text to offer for fractions and objects
    assert suggested(client, "/suggest/values?key=trial") == {"true": 1}
    assert suggested(client, "/suggest/values?key=amount") == {"3": 1}
    assert suggested(client, "/suggest/values?key=price") == {}
    assert suggested(client, "/suggest/values?key=nested") == {}
    assert suggested(client, "/suggest/values?key=unknown") == {}
    types = client.get("/suggest/types", headers=READ_HEADERS).get_json()["data"]
    assert (types["days"], types["approximate"]) == (30, False)
    assert [(s["value"], s["count"]) for s in types["suggestions"]] == [("signup", 3), ("view", 2)]
    # a prefix, ignoring case, and a limit
    assert suggested(client, "/suggest/types?q=SIG") == {"signup": 3}
    assert suggested(client, "/suggest/keys?q=pl") == {"plan": 3, "Plan Name": 1}
    assert suggested(client, "/suggest/keys?q=pl&limit=1") == {"plan": 3}
    assert suggested(client, "/suggest/values?key=plan&q=F") == {"free": 1}

    # more events: the keys' and values' counts follow (the types' within a minute)
    post(client, INGEST_HEADERS, [{"eventType": "signup", "userId": "4",
                                   "metadata": {"plan": "team"}}] * 2)
    wait_stored(app, 7)
    wait_until(lambda: suggested(client, "/suggest/keys").get("plan") == 5, what="the index")
    assert suggested(client, "/suggest/values?key=plan") == {"pro": 2, "team": 2, "free": 1}


def test_the_index_stays_bounded_through_the_worker(app, client, project):
    posted = 0
    for batch in range(5):  # 250 keys, one commit after another
        post(client, INGEST_HEADERS, [{"eventType": "e", "userId": "u",
                                       "metadata": {f"key_{batch}_{n}": n, "common": "yes"}}
                                      for n in range(50)])
        posted += 50
        wait_stored(app, posted)
    wait_until(lambda: suggested(client, "/suggest/keys").get("common") == 250, what="index")
    keys = suggested(client, "/suggest/keys")
    assert len(keys) == MAX_KEYS
    assert len(suggested(client, "/suggest/keys?limit=200")) == MAX_KEYS


def test_pages_get_datalists_and_htmx_asks_with_the_input_it_has(app, client, logged_in):
    post(client, INGEST_HEADERS, SIGNUPS)
    wait_stored(app, 5)
    wait_until(lambda: "page" in suggested(client, "/suggest/keys"), what="the index")

    html = logged_in.get("/projects/default/suggest/types").get_data(as_text=True)
    assert html.startswith('<datalist id="event-types">')
    assert options(html) == {"signup": "3 events in the last 30 days",
                             "view": "2 events in the last 30 days"}
    keys = logged_in.get("/projects/default/suggest/keys?q=p").get_data(as_text=True)
    assert keys.startswith('<datalist id="property-keys">')
    assert options(keys) == {"plan": "in about 3 events", "price": "in about 1 event",
                             "page": "in about 1 event", "Plan Name": "in about 1 event"}
    values = logged_in.get("/projects/default/suggest/values?key=plan").get_data(as_text=True)
    assert values.startswith('<datalist id="values-plan">')
    assert options(values) == {"pro": "about 2 events", "free": "about 1 event"}

    # htmx names the input that asks: its value is the prefix (or, for values, the key)
    typed = logged_in.get("/projects/default/suggest/types?A=VI",
                          headers={"HX-Request": "true", "HX-Trigger-Name": "A"})
    assert list(options(typed.get_data(as_text=True))) == ["view"]
    picked = logged_in.get("/projects/default/suggest/values?breakdown=Plan+Name",
                           headers={"HX-Request": "true", "HX-Trigger-Name": "breakdown"})
    html = picked.get_data(as_text=True)
    assert options(html) == {"Pro": "about 1 event"}
    # a key that is no plain id gets one
    assert re.match(r'<datalist id="values-[0-9a-f]{16}">', html)
    assert suggest.values_list_id("Plan Name") in html
    prefixed = logged_in.get("/projects/default/suggest/values?key=plan&A.where=p",
                             headers={"HX-Request": "true", "HX-Trigger-Name": "A.where"})
    assert list(options(prefixed.get_data(as_text=True))) == ["pro"]

    # the page partial: every list at once, the values of the keys the query names too
    with app.test_request_context():
        lists = suggest.page_lists(project_id(app), MultiDict(
            [("A.where", "metadata.trial=true"), ("breakdown", "amount")]))
        html = render_template_string('{% from "_pickers.html" import pickers %}'
                                      "{{ pickers(lists) }}", lists=lists)
    ids = re.findall(r'<datalist id="([^"]+)">', html)
    assert ids[:2] == ["event-types", "property-keys"]
    assert {"values-plan", "values-trial", "values-amount"} <= set(ids)
    assert 'value="pro">about 2 events<' in html and 'value="true">about 1 event<' in html


def project_id(app) -> int:
    from webapp.models import Project

    with app.app_context():
        return Project.get(Project.slug == "default").id


SECRET = "beta-only-secret-marker"


@pytest.fixture
def others(app, admin, project):
    """Organization beta with its project and a member, and a second project of the admin's
    own organization; each with ingest and read keys."""
    with app.app_context():
        beta = create_organization("Beta Corp", "beta")
        beta_project = create_project(beta, "Beta shop", "beta-shop")
        member = create_user("owner@beta.test", "beta owner password")
        Membership.create(user=member, organization=beta, role="owner")
        second = create_project(project.organization, "Second", "second")
        keys = {name: {kind: create_key(p, kind, kind)[1] for kind in ("ingest", "read")}
                for name, p in (("beta", beta_project), ("second", second))}
    return keys


def test_nothing_of_another_project_or_organization_is_suggested(app, client, logged_in,
                                                                 others):
    post(client, INGEST_HEADERS, [{"eventType": "alpha_event", "userId": "a",
                                   "metadata": {"alpha_key": "alpha-value"}}])
    for name in ("beta", "second"):
        post(client, {"X-API-Key": others[name]["ingest"]},
             [{"eventType": f"{name}_event", "userId": "b",
               "metadata": {f"{name}_key": SECRET, "alpha_key": f"{name}-{SECRET}"}}])
    wait_stored(app, 3)
    for name in ("beta", "second"):
        token = {"Authorization": f"Bearer {others[name]['read']}"}
        wait_until(lambda t=token, n=name: f"{n}_key" in suggested(client, "/suggest/keys", t),
                   what=f"{name}'s index")
    wait_until(lambda: "alpha_key" in suggested(client, "/suggest/keys"), what="the index")

    paths = ("/suggest/types", "/suggest/keys", "/suggest/values?key=alpha_key",
             "/suggest/values?key=beta_key", "/suggest/values?key=second_key")
    # the default project's token and its members' session: the default project's only
    for who in (lambda path: client.get(path, headers=READ_HEADERS), logged_in.get):
        for path in paths:
            answer = who(path)
            assert answer.status_code == 200
            text = json.dumps(answer.get_json()["data"]["suggestions"])
            assert SECRET not in text and "beta" not in text and "second" not in text
        assert who("/suggest/values?key=alpha_key").get_json()["data"]["suggestions"] == [
            {"value": "alpha-value", "count": 1}]
        for path in paths:  # another organization's project, by name
            assert who(path + ("&" if "?" in path else "?") + "project=beta-shop"
                       ).status_code == 403
    # the token names one project; the session may see its organization's others
    assert client.get("/suggest/keys?project=second", headers=READ_HEADERS).status_code == 403
    theirs = logged_in.get("/suggest/values?key=alpha_key&project=second").get_json()["data"]
    assert [s["value"] for s in theirs["suggestions"]] == [f"second-{SECRET}"]
    beta_token = {"Authorization": f"Bearer {others['beta']['read']}"}
    assert suggested(client, "/suggest/keys", beta_token) == {"beta_key": 1, "alpha_key": 1}
    assert client.get("/suggest/keys?project=default", headers=beta_token).status_code == 403

    # pages: another organization's project does not exist; the second shows its own only
    for kind in ("types", "keys", "values?key=beta_key"):
        assert logged_in.get(f"/projects/beta-shop/suggest/{kind}").status_code == 404
        assert logged_in.get(f"/projects/beta/beta-shop/suggest/{kind}").status_code == 404
    html = logged_in.get("/projects/default/suggest/values?key=alpha_key").get_data(as_text=True)
    assert SECRET not in html and "alpha-value" in html
    html = logged_in.get("/projects/second/suggest/keys").get_data(as_text=True)
    assert set(options(html)) == {"second_key", "alpha_key"}
    # and beta's member sees beta's project, not the default one
    beta_client = app.test_client()
    login(beta_client, "owner@beta.test", "beta owner password")
    html = beta_client.get("/projects/beta-shop/suggest/values?key=alpha_key")
    assert options(html.get_data(as_text=True)) == {f"beta-{SECRET}": "about 1 event"}
    assert beta_client.get("/projects/default/suggest/keys").status_code == 404
    assert beta_client.get("/suggest/keys?project=default").status_code == 403


def test_bad_questions_are_refused_with_every_problem(client, logged_in):
    answer = client.get("/suggest/values?limit=0", headers=READ_HEADERS)
    assert answer.status_code == 400
    problems = [e["message"] for e in answer.get_json()["errors"]]
    assert len(problems) == 2
    assert '"limit" must be a whole number from 1 to 50' in problems[0]
    assert '"key" is required' in problems[1]
    for path in ("/suggest/types?limit=501", "/suggest/keys?limit=x", "/suggest/keys?limit=-1",
                 "/suggest/values?key=" + "k" * 101, "/suggest/values?key=",
                 "/suggest/types?limit=%EF%BC%91"):  # a full-width digit is no number here
        answer = client.get(path, headers=READ_HEADERS)
        assert answer.status_code == 400, path
        assert answer.get_json()["success"] is False and answer.get_json()["errors"]
    visitor = client.application.test_client()  # (`client` has the session now)
    assert visitor.get("/suggest/keys").status_code == 401
    assert visitor.get("/suggest/keys",
                       headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/suggest/other", headers=READ_HEADERS).status_code == 404
    # the pages' fragments: the error page, and the login for a visitor without a session
    page = logged_in.get("/projects/default/suggest/values")
    assert page.status_code == 400 and "text/html" in page.content_type
    assert '"key" is required' in unescape(page.get_data(as_text=True))
    assert logged_in.get("/projects/nowhere/suggest/keys").status_code == 404
    away = visitor.get("/projects/default/suggest/keys")
    assert away.status_code == 302 and "/login" in away.headers["Location"]


def test_while_redis_is_away_types_still_come_and_the_index_says_503(services, app, client,
                                                                      project):
    post(client, INGEST_HEADERS, SIGNUPS)
    wait_stored(app, 5)
    away = create_app({"DATABASE_URL": services.database_url,
                       "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"}, test=True)
    lost = away.test_client()
    types = lost.get("/suggest/types", headers=READ_HEADERS)
    assert types.status_code == 200
    assert [s["value"] for s in types.get_json()["data"]["suggestions"]] == ["signup", "view"]
    for path in ("/suggest/keys", "/suggest/values?key=plan"):
        answer = lost.get(path, headers=READ_HEADERS)
        assert answer.status_code == 503 and answer.headers["Retry-After"] == "5"
    with away.test_request_context():
        lists = suggest.page_lists(project.id)
    assert [s.value for s in lists.types] == ["signup", "view"] and lists.keys == []
