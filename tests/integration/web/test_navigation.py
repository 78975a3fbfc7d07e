"""The project's navigation: every page of a project links to every other (dashboard, boards,
each report, a user's timeline, share links, manage), names the project and its time zone and
marks where one is; a viewer is not offered what their role may not open; shared pages,
logged out, show none of it."""

from __future__ import annotations

import re
from html import unescape

import pytest

from tests.helpers import login
from webapp.reports import params

REPORTS = [f"/projects/default/reports/{kind}" for kind in params.MODULES]
PAGES = {"dashboard": "/?project=default", **dict(zip(params.MODULES, REPORTS, strict=True)),
         "users": "/projects/default/users?id=ann", "shares": "/projects/default/shares",
         "manage": "/manage/projects/default"}


@pytest.fixture
def berlin(app, project):
    from webapp.tenancy.tenants import set_time_zone

    with app.app_context():
        set_time_zone(project, "Europe/Berlin")


def nav_of(html: str) -> str:
    found = re.search(r'<nav class="site-nav" aria-label="Project">(.*?)</nav>', html, re.S)
    assert found, "no project navigation"
    return found.group(1)


def hrefs(nav: str) -> dict[str, str]:
    """Link text -> address."""
    return {unescape(text): unescape(href) for href, text in
            re.findall(r'<a href="([^"]+)"[^>]*>([^<]+)</a>', nav)}


@pytest.mark.parametrize("here", list(PAGES))
def test_every_page_of_a_project_links_to_every_other(logged_in, berlin, here):
    answer = logged_in.get(PAGES[here])
    assert answer.status_code == 200
    nav = nav_of(answer.get_data(as_text=True))
    assert '<strong class="project-name">Default project</strong>' in nav
    assert "Time zone: Europe/Berlin" in nav
    links = hrefs(nav)
    assert links == {"Dashboard": "/?project=default", "Boards": "/projects/default/boards",
                     "Notes": "/manage/projects/default/annotations",
                     "Funnel": REPORTS[0], "Retention": REPORTS[1], "Paths": REPORTS[2],
                     "Breakdown": REPORTS[3], "Trends": REPORTS[4],
                     "Share links": "/projects/default/shares",
                     "Manage": "/manage/projects/default",
                     "change": "/manage/projects/default"}
    current = re.findall(r'<a href="([^"]+)" aria-current="page">', nav)
    assert [unescape(c) for c in current] == ([] if here == "users" else
                                              [PAGES[here].split("?id=")[0]])
    # a user's timeline opens by id, from every page
    assert 'action="/projects/default/users"' in nav and 'name="id" required' in nav
    if here == "users":
        assert 'value="ann"' in nav


def test_a_viewer_is_offered_only_what_their_role_opens(app, client, project):
    from webapp.models import Membership
    from webapp.tenancy.accounts import create_user

    with app.app_context():
        viewer = create_user("viewer@example.test", "a viewer's password")
        Membership.create(user=viewer, organization=project.organization, role="viewer")
    login(client, "viewer@example.test", "a viewer's password")
    links = hrefs(nav_of(client.get(REPORTS[0]).get_data(as_text=True)))
    assert "Share links" not in links and "change" not in links
    assert links["Manage"] == "/manage/"
    assert client.get(links["Manage"]).status_code == 200


def test_shared_pages_and_logged_out_pages_have_no_navigation(app, logged_in, project):
    from webapp.reports import saved

    with app.app_context():
        report = saved.save(project.id, "Signups", "funnel", "step=signup&step=buy")
        tokens = [saved.share(project.id, report.id), saved.share(project.id, None)]
    stranger = app.test_client()
    for token in tokens:
        html = stranger.get(f"/share/{token}").get_data(as_text=True)
        assert "site-nav" not in html and "/projects/default/" not in html.split("<main>")[0]
        # a member following a share link sees the shared view as anyone would
        assert "site-nav" not in logged_in.get(f"/share/{token}").get_data(as_text=True)
    assert "site-nav" not in stranger.get("/login").get_data(as_text=True)


def test_the_dashboard_links_to_every_report(logged_in):
    html = logged_in.get("/").get_data(as_text=True)
    links = hrefs(nav_of(html))
    assert {links[name] for name in ("Funnel", "Retention", "Paths", "Breakdown",
                                     "Trends")} == set(REPORTS)
