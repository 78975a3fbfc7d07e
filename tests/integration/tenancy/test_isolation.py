"""Two organizations on one install: nothing of one reaches a user, token or key of the other."""

from __future__ import annotations

import json

import pytest

from tests.helpers import INGEST_HEADERS, READ_HEADERS, csrf_token, login, wait_stored
from webapp.models import Membership
from webapp.tenancy.accounts import create_user
from webapp.tenancy.tenants import (
    add_signing_secret,
    create_key,
    create_organization,
    create_project,
)

pytestmark = pytest.mark.usefixtures("worker")
SECRET_MARK = "beta-only-secret-marker"


@pytest.fixture
def beta(app, admin):
    """Organization beta, its project, keys, a signing secret, an owner and a viewer."""
    with app.app_context():
        organization = create_organization("Beta Corp", "beta")
        project = create_project(organization, "Beta shop", "beta-shop")
        _, ingest = create_key(project, "ingest", "beta ingest")
        _, read = create_key(project, "read", "beta read")
        add_signing_secret(project, "beta sender")
        owner = create_user("owner@beta.test", "beta owner password")
        viewer = create_user("viewer@beta.test", "beta viewer password")
        Membership.create(user=owner, organization=organization, role="owner")
        Membership.create(user=viewer, organization=organization, role="viewer")
    return {"ingest": ingest, "read": read}


def post(client, headers, body):
    response = client.post("/webhook", data=json.dumps(body), headers=headers,
                           content_type="application/json")
    assert response.status_code == 202
    return response


def test_nothing_crosses_between_organizations(app, client, logged_in, beta):
    post(client, INGEST_HEADERS, [{"eventType": "alpha_event", "userId": "alpha-user"}])
    post(client, {"X-API-Key": beta["ingest"]},
         [{"eventType": "beta_event", "userId": SECRET_MARK, "metadata": {"m": SECRET_MARK}}])
    wait_stored(app, 2)
    beta_token = {"Authorization": f"Bearer {beta['read']}"}

    # the read API, with alpha's token and with alpha's dashboard session
    for who in (lambda path: client.get(path, headers=READ_HEADERS), logged_in.get):
        for path in ("/events?filter=hour", "/events/stats?filter=hour",
                     "/events/export?format=ndjson"):
            answer = who(path)
            assert answer.status_code == 200
            assert SECRET_MARK not in answer.get_data(as_text=True)
            assert "beta_event" not in answer.get_data(as_text=True)
            assert who(path + "&project=beta-shop").status_code == 403
    # and beta's token sees only beta
    mine = client.get("/events?filter=hour", headers=beta_token).get_json()["data"]["events"]
    assert [e["eventType"] for e in mine] == ["beta_event"]
    assert client.get("/events?project=default", headers=beta_token).status_code == 403

    # reports and user timelines, JSON and CSV, with alpha's token and session
    reports = ("/reports/breakdown?property=m", "/reports/breakdown.csv?property=m",
               "/reports/funnel?step=beta_event&step=alpha_event",
               "/reports/funnel.csv?step=beta_event&step=alpha_event",
               "/reports/retention?unit=day", "/reports/retention.csv?unit=week",
               "/reports/paths?event=beta_event", "/reports/paths.csv?event=alpha_event",
               "/reports/trends?A=*&A.measure=users&breakdown=m",
               "/reports/trends.csv?A=beta_event&B=*&B.measure=distinct&B.property=m"
               "&formula=A%2BB&compare=previous")
    for who in (lambda path: client.get(path, headers=READ_HEADERS), logged_in.get):
        for path in reports:
            answer = who(path)
            assert answer.status_code == 200, (path, answer.get_data(as_text=True))
            assert SECRET_MARK not in answer.get_data(as_text=True)
            assert who(path + "&project=beta-shop").status_code == 403
        funnel = who("/reports/funnel?step=beta_event&step=x").get_json()["data"]
        assert [step["users"] for step in funnel["steps"]] == [0, 0]
        assert who("/reports/paths?event=beta_event").get_json()["data"]["users"] == 0
        timeline = who(f"/users/{SECRET_MARK}").get_json()["data"]
        assert (timeline["totalEvents"], timeline["events"]) == (0, [])
        assert who(f"/users/{SECRET_MARK}?project=beta-shop").status_code == 403
    assert client.get("/reports/breakdown?property=m",
                      headers=beta_token).get_json()["data"]["values"][0]["value"] == SECRET_MARK
    # the same trend, cached for beta first, counts only alpha's events for alpha
    trend = "/reports/trends?A=*&A.measure=users&breakdown=m&range=today"
    theirs = client.get(trend, headers=beta_token).get_json()["data"]
    assert theirs["series"][0]["breakdown"][0]["value"] == SECRET_MARK
    assert client.get(trend, headers=beta_token).get_json()["data"]["cached"]
    mine = client.get(trend, headers=READ_HEADERS).get_json()["data"]
    assert not mine["cached"] and mine["series"][0]["total"] == 1
    assert [line["value"] for line in mine["series"][0]["breakdown"]] == [None]
    # and the report pages of the other project do not exist for alpha's users
    for path in ("/projects/beta-shop/reports/funnel?step=beta_event&step=x",
                 "/projects/beta-shop/reports/breakdown",
                 "/projects/beta-shop/reports/trends?A=beta_event",
                 f"/projects/beta-shop/users/{SECRET_MARK}"):
        assert logged_in.get(path).status_code == 404

    # saved reports and share links of the other project cannot be made, listed, renamed,
    # deleted or revoked
    token = csrf_token(logged_in.get("/manage/").get_data(as_text=True))
    assert logged_in.post("/projects/beta-shop/reports/funnel/save",
                          data={"csrf_token": token, "name": "x",
                                "query": "step=a&step=b"}).status_code == 404
    assert logged_in.get("/projects/beta-shop/shares").status_code == 404
    assert logged_in.post("/manage/projects/beta-shop/time-zone",
                          data={"csrf_token": token, "time_zone": "UTC"}).status_code == 404
    assert logged_in.post("/projects/beta-shop/shares",
                          data={"csrf_token": token, "saved_report": ""}).status_code == 404
    assert logged_in.post("/projects/beta-shop/shares/1/revoke",
                          data={"csrf_token": token}).status_code == 404
    with app.app_context():
        from webapp.models import Project
        from webapp.reports import saved

        beta_id = Project.get(Project.slug == "beta-shop").id
        beta_report = saved.save(beta_id, "beta report", "breakdown", "property=m")
        beta_link = saved.share(beta_id, beta_report.id)
        beta_trend = saved.save(beta_id, "beta trend", "trends", "A=*&breakdown=m&range=today")
        beta_trend_link = saved.share(beta_id, beta_trend.id)
        beta_dashboard = saved.share(beta_id, None)
    # alpha cannot point a share link at beta's saved report
    assert logged_in.post("/projects/default/shares",
                          data={"csrf_token": token,
                                "saved_report": str(beta_report.id)}).status_code == 400
    for slug in ("beta-shop", "default"):
        for action in ("rename", "delete"):
            assert logged_in.post(f"/projects/{slug}/saved-reports/{beta_report.id}/{action}",
                                  data={"csrf_token": token, "name": "x"}).status_code == 404
    stranger = app.test_client()
    assert SECRET_MARK in stranger.get(f"/share/{beta_link}").get_data(as_text=True)
    shown = stranger.get(f"/share/{beta_trend_link}").get_data(as_text=True)
    assert SECRET_MARK in shown and "alpha" not in shown
    assert logged_in.post("/projects/beta-shop/reports/trends/save",
                          data={"csrf_token": token, "name": "x",
                                "query": "A=*"}).status_code == 404
    shown = stranger.get(f"/share/{beta_dashboard}?filter=hour").get_data(as_text=True)
    assert "beta_event" in shown and "alpha_event" not in shown and "alpha-user" not in shown

    # the SSE stream refuses the channel of the other project
    assert client.get("/stream?project=beta-shop", headers=READ_HEADERS).status_code == 403
    assert logged_in.get("/stream?project=beta-shop").status_code == 403

    # dashboard pages and fragments
    assert logged_in.get("/?project=beta-shop").status_code == 404
    assert logged_in.get("/?project=beta-shop&from=2026-01-01").status_code == 404
    ranged = logged_in.get("/?from=2026-01-01").get_data(as_text=True)
    assert SECRET_MARK not in ranged and "beta_event" not in ranged
    page = logged_in.get("/?filter=hour").get_data(as_text=True)
    assert SECRET_MARK not in page and "Beta shop" not in page

    # management pages and actions
    assert "Beta" not in logged_in.get("/manage/").get_data(as_text=True)
    token = csrf_token(logged_in.get("/manage/").get_data(as_text=True))
    assert logged_in.get("/manage/projects/beta-shop").status_code == 404
    key_form = {"csrf_token": token, "kind": "read", "name": "x"}
    assert logged_in.post("/manage/projects/beta-shop/keys", data=key_form).status_code == 404
    assert logged_in.get("/manage/organizations/beta/members").status_code == 404
    assert logged_in.post("/manage/organizations/beta/members",
                          data={"csrf_token": token, "email": "me@x.test", "role": "owner",
                                "password": "p" * 20}).status_code == 404

    # keys and signatures: alpha's key cannot write into beta
    signed = client.post("/webhook/beta-shop", data=json.dumps({"eventType": "x", "userId": "y"}),
                         headers={"Content-Type": "application/json", **INGEST_HEADERS})
    assert signed.status_code == 400  # a delivery to beta needs beta's signature


def test_roles_viewer_reads_but_cannot_manage(app, client, beta):
    with app.app_context():
        from webapp.models import Project
        from webapp.reports import saved

        report = saved.save(Project.get(Project.slug == "beta-shop").id, "beta report",
                            "breakdown", "property=m")
    login(client, "viewer@beta.test", "beta viewer password")
    assert client.get("/?project=beta-shop").status_code == 200
    assert client.get("/manage/projects/beta-shop").status_code == 403
    token = csrf_token(client.get("/?project=beta-shop").get_data(as_text=True))
    for action in ("rename", "delete"):
        assert client.post(f"/projects/beta-shop/saved-reports/{report.id}/{action}",
                           data={"csrf_token": token, "name": "x"}).status_code == 403


def test_owner_manages_keys_with_server_side_validation(app, client, beta):
    login(client, "owner@beta.test", "beta owner password")
    page = client.get("/manage/projects/beta-shop")
    assert page.status_code == 200
    token = csrf_token(page.get_data(as_text=True))
    bad = client.post("/manage/projects/beta-shop/keys", data={"csrf_token": token, "kind": "x",
                                                               "name": ""},
                      headers={"HX-Request": "true"})
    assert bad.status_code == 400
    assert "Choose ingest key, read token or annotation key." in bad.get_data(as_text=True)
    made = client.post("/manage/projects/beta-shop/keys",
                       data={"csrf_token": token, "kind": "ingest", "name": "checkout service"},
                       headers={"HX-Request": "true"})
    html = made.get_data(as_text=True)
    assert made.status_code == 200 and html.startswith('<section id="keys"')
    secret = html.split('data-testid="new-secret">')[1].split("<")[0]
    assert post(client, {"X-API-Key": secret}, {"eventType": "a", "userId": "b"})
    again = client.get("/manage/projects/beta-shop").get_data(as_text=True)
    assert secret not in again  # shown once
