"""Pickers in the report forms: every event-type, property and condition input offers the
project's own (filled by the real worker as it stores events), conditions written out and
refreshed for what an input holds; another project's never show."""

from __future__ import annotations

import json
import re
from html import unescape

import pytest

from tests.helpers import INGEST_HEADERS, READ_HEADERS, wait_stored, wait_until

pytestmark = pytest.mark.usefixtures("worker")
EVENTS = [{"eventType": "signup", "userId": "1", "metadata": {"plan": "pro", "country": "NP"}},
          {"eventType": "signup", "userId": "2", "metadata": {"plan": "pro"}},
          {"eventType": "signup", "userId": "3", "metadata": {"plan": "free"}},
          {"eventType": "purchase", "userId": "1", "metadata": {"amount": 20}}]
# each report form's inputs and the list each offers
INPUTS = {
    "funnel": {"step": "event-types", "step1.where": "conditions",
               "breakdown": "property-keys", "where": "conditions"},
    "retention": {"start": "event-types", "return": "event-types", "where": "conditions"},
    "paths": {"event": "event-types", "where": "conditions"},
    "breakdown": {"property": "property-keys", "eventType": "event-types",
                  "where": "conditions"},
    "trends": {"A": "event-types", "A.property": "property-keys", "A.where": "conditions",
               "E": "event-types", "breakdown": "property-keys", "where": "conditions"},
}


@pytest.fixture
def indexed(app, client, project):
    answer = client.post("/webhook", data=json.dumps(EVENTS), headers=INGEST_HEADERS,
                         content_type="application/json")
    assert answer.status_code == 202
    wait_stored(app, len(EVENTS))
    wait_until(lambda: "plan" in json.dumps(client.get("/suggest/keys", headers=READ_HEADERS)
                                             .get_json()), what="the property index")


def datalist(html: str, list_id: str) -> dict[str, str]:
    found = re.search(rf'<datalist id="{list_id}">(.*?)</datalist>', html, re.S)
    assert found, f"no datalist {list_id}"
    return {unescape(v): unescape(label) for v, label in
            re.findall(r'<option value="([^"]*)">([^<]*)</option>', found.group(1))}


@pytest.mark.parametrize("kind", list(INPUTS))
def test_every_report_form_offers_the_projects_own(logged_in, indexed, kind):
    html = logged_in.get(f"/projects/default/reports/{kind}").get_data(as_text=True)
    assert datalist(html, "event-types") == {
        "signup": "3 events in the last 30 days", "purchase": "1 event in the last 30 days"}
    assert datalist(html, "property-keys") == {"plan": "in about 3 events",
                                               "country": "in about 1 event",
                                               "amount": "in about 1 event"}
    conditions = datalist(html, "conditions")
    assert conditions["metadata.plan=pro"] == "about 2 events"
    assert conditions["metadata.amount=20"] == "about 1 event"
    for name, list_id in INPUTS[kind].items():
        tag = re.search(rf'<input name="{re.escape(name)}" list="([^"]+)"([^>]*)>', html)
        assert tag and tag.group(1) == list_id, name
        if list_id != "property-keys":  # htmx refreshes the list as one types
            assert 'hx-trigger="input changed delay:250ms"' in tag.group(2)
            assert f'hx-target="#{list_id}"' in tag.group(2)
    # the form's own htmx attributes stay on the form: an input's request only fetches a list
    assert re.search(r'<form class="card report-form[^>]*hx-disinherit="\*"', html)


def test_a_condition_input_is_answered_for_what_it_holds(logged_in, indexed):
    def asked(name: str, typed: str) -> dict[str, str]:
        answer = logged_in.get(f"/projects/default/reports/conditions?{name}={typed}",
                               headers={"HX-Request": "true", "HX-Trigger-Name": name})
        assert answer.status_code == 200
        html = answer.get_data(as_text=True)
        assert html.startswith('<datalist id="conditions">')
        return datalist(html, "conditions")

    assert asked("A.where", "metadata.pl") == {"metadata.plan=": "in about 3 events"}
    assert asked("step2.where", "co") == {"metadata.country=": "in about 1 event"}
    assert asked("where", "metadata.plan%3D") == {"metadata.plan=pro": "about 2 events",
                                                  "metadata.plan=free": "about 1 event"}
    assert asked("where", "metadata.plan%3Df") == {"metadata.plan=free": "about 1 event"}
    assert asked("where", "metadata.plan%5E%3Dp") == {"metadata.plan^=pro": "about 2 events"}
    assert asked("where", "metadata." + "k" * 200 + "%3D") == {}  # longer than any indexed


def test_another_projects_keys_and_types_never_show(app, client, logged_in, indexed):
    from webapp.tenancy.tenants import create_key, create_organization, create_project

    with app.app_context():
        beta = create_organization("Beta Corp", "beta")
        other = create_project(beta, "Beta shop", "beta-shop")
        ingest = create_key(other, "ingest", "ingest")[1]
        read = create_key(other, "read", "read")[1]
    answer = client.post("/webhook", data=json.dumps([{"eventType": "beta_secret",
                                                       "userId": "b",
                                                       "metadata": {"beta_key": "x"}}]),
                         headers={"X-API-Key": ingest}, content_type="application/json")
    assert answer.status_code == 202
    wait_stored(app, len(EVENTS) + 1)
    wait_until(lambda: "beta_key" in json.dumps(client.get(  # in beta's own index by now
        "/suggest/keys", headers={"Authorization": f"Bearer {read}"}).get_json()),
        what="beta's property index")
    html = logged_in.get("/projects/default/reports/trends").get_data(as_text=True)
    assert "beta_secret" not in html and "beta_key" not in html
    typed = logged_in.get("/projects/default/reports/conditions?q=metadata.beta").get_data(
        as_text=True)
    assert datalist(typed, "conditions") == {}
    assert logged_in.get("/projects/beta/beta-shop/reports/conditions?q=b").status_code == 404
