"""Refusals are answered in one place: the error page on pages (saying what is missing), the
JSON envelope on the API, plain text on the event stream; every route that names a project
takes "<organization>/<slug>" through the same `project` converter."""

from __future__ import annotations

import pytest

from tests.helpers import READ_HEADERS, login
from webapp.models import Membership
from webapp.tenancy.accounts import create_user
from webapp.tenancy.tenants import create_key, create_organization, create_project

PAGE_ROUTES = ("/projects/{}/reports/funnel", "/projects/{}/shares", "/manage/projects/{}")


@pytest.fixture
def other_tenant(app, admin):
    """Organization beta, with a project `shop` and an owner; the admin is no member."""
    with app.app_context():
        beta = create_organization("Beta", "beta")
        create_project(beta, "Shop", "shop")
        Membership.create(user=create_user("owner@beta.test", "beta owner password"),
                          organization=beta, role="owner")


def test_every_route_naming_a_project_uses_the_project_converter(app):
    named = [rule for rule in app.url_map.iter_rules() if "/projects/" in rule.rule]
    assert len(named) >= 20
    for rule in named:
        assert rule.rule.split("/projects/", 1)[1].startswith("<project:slug>"), rule.rule


@pytest.mark.parametrize("route", PAGE_ROUTES)
def test_a_page_of_another_tenants_project_is_an_error_page_saying_so(logged_in, other_tenant,
                                                                      route):
    for handle in ("beta/shop", "shop", "default/nope"):
        page = logged_in.get(route.format(handle))
        assert page.status_code == 404 and page.mimetype == "text/html"
        assert "No such project for your account" in page.get_data(as_text=True)


def test_an_organization_of_another_tenant_is_an_error_page_saying_so(logged_in, other_tenant):
    page = logged_in.get("/manage/organizations/beta/members")
    assert page.status_code == 404 and page.mimetype == "text/html"
    assert "No such organization for your account" in page.get_data(as_text=True)


def test_a_viewer_is_refused_on_a_page_in_html(app, client, project):
    with app.app_context():
        viewer = create_user("viewer@example.test", "viewer password 123")
        Membership.create(user=viewer, organization=project.organization, role="viewer")
    login(client, "viewer@example.test", "viewer password 123")
    page = client.get("/manage/projects/default/default")
    assert page.status_code == 403 and page.mimetype == "text/html"
    assert "Your role in this organization may not change it" in page.get_data(as_text=True)


def test_the_api_answers_refusals_in_its_envelope(client, project):
    bad = client.get("/events?filter=fortnight", headers=READ_HEADERS)
    assert bad.status_code == 400 and bad.get_json()["message"] == "Invalid query"
    assert "fortnight" in bad.get_json()["errors"][0]["message"]
    missing = client.get("/events")
    assert missing.status_code == 401 and missing.headers["WWW-Authenticate"] == "Bearer"
    assert missing.get_json() == {"success": False,
                                  "message": "Missing read token: send it as Authorization: "
                                             "Bearer"}
    other = client.get("/events?project=beta/shop", headers=READ_HEADERS)
    assert other.status_code == 403 and other.get_json()["success"] is False


def test_the_event_stream_answers_refusals_in_plain_text(client, project):
    answer = client.get("/stream")
    assert answer.status_code == 401 and answer.mimetype == "text/plain"
    assert answer.get_data(as_text=True) == "Missing read token: send it as Authorization: " \
                                            "Bearer\n"


def test_commands_name_a_project_by_organization(app, project, other_tenant):
    with app.app_context():
        create_project(project.organization, "Shop", "shop")
        create_key(project, "read", "spare")
    runner = app.test_cli_runner()
    ambiguous = runner.invoke(args=["projects", "keys", "shop"])
    assert ambiguous.exit_code == 2
    assert "name it as <organization>/shop" in ambiguous.output
    for command in (["projects", "keys"], ["alerts", "list"]):
        named = runner.invoke(args=[*command, "beta/shop"])
        assert named.exit_code == 0, named.output
    assert "spare" in runner.invoke(args=["projects", "keys", "default"]).output
    assert "no project 'beta/nope'" in runner.invoke(args=["alerts", "log", "beta/nope"]).output


def test_a_mistyped_address_is_the_error_page_for_a_browser_and_json_for_a_client(client):
    browser = client.get("/no-such-page", headers={
        "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"})
    assert browser.status_code == 404 and browser.mimetype == "text/html"
    assert '<html lang="en">' in browser.get_data(as_text=True)
    assert "<title>404 · Pulseboard</title>" in browser.get_data(as_text=True)
    for accept in ("*/*", "application/json", None):
        api = client.get("/no-such-page", headers={"Accept": accept} if accept else {})
        assert api.status_code == 404 and api.get_json()["success"] is False, accept
