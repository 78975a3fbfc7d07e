"""Saved reports and share links: one view, to anyone holding the link, until revoked."""

from __future__ import annotations

import re
from html import unescape

from tests.helpers import ADMIN_EMAIL, ADMIN_PASSWORD, csrf_token, login, sql_scalar
from tests.integration.web.test_reports_routes import history  # noqa: F401 (fixture)

QUERY = "step=signup&step=view&step=buy&window=1h"


def save_and_share(logged_in, password: str = "") -> str:
    page = logged_in.get(f"/projects/default/reports/funnel?{QUERY}").get_data(as_text=True)
    token = csrf_token(page)
    saved = logged_in.post("/projects/default/reports/funnel/save",
                           data={"csrf_token": token, "name": "Signup to buy", "query": QUERY})
    assert saved.status_code == 302 and saved.location.endswith(QUERY)
    shares = logged_in.get("/projects/default/shares").get_data(as_text=True)
    report_id = re.search(r'<option value="(\d+)">funnel: Signup to buy', shares).group(1)
    made = logged_in.post("/projects/default/shares",
                          data={"csrf_token": token, "saved_report": report_id,
                                "password": password}).get_data(as_text=True)
    link = re.search(r'data-testid="share-link">([^<]+)<', made).group(1)
    assert link not in logged_in.get("/projects/default/shares").get_data(as_text=True)
    return link.split("/share/")[1]


def test_a_saved_report_is_listed_and_its_link_shows_only_it(app, client, logged_in,
                                                              history):  # noqa: F811
    token = save_and_share(logged_in)
    assert len(token) >= 40  # 32 random bytes
    assert "Signup to buy" in logged_in.get("/projects/default/reports/funnel").get_data(
        as_text=True)
    stranger = app.test_client()
    page = stranger.get(f"/share/{token}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Signup to buy" in html and '<th scope="row">1. signup</th>' in html
    assert "Save as" not in html and "/reports/funnel.csv" not in html
    # the link opens nothing else
    assert stranger.get("/reports/funnel?" + QUERY).status_code == 401
    assert stranger.get("/projects/default/reports/funnel").status_code == 302
    assert stranger.get("/share/" + token[:-1] + "x").status_code == 404


def test_revoked_links_stop_and_passwords_lock(app, logged_in, history):  # noqa: F811
    token = save_and_share(logged_in, password="open sesame")
    stranger = app.test_client()
    form = stranger.get(f"/share/{token}").get_data(as_text=True)
    assert "password-protected" in form and '<th scope="row">1. signup</th>' not in form
    wrong = stranger.post(f"/share/{token}", data={"csrf_token": csrf_token(form),
                                                   "password": "guess"})
    assert wrong.status_code == 403
    right = stranger.post(f"/share/{token}", data={"csrf_token": csrf_token(form),
                                                   "password": "open sesame"})
    assert right.status_code == 302
    unlocked = stranger.get(f"/share/{token}").get_data(as_text=True)
    assert '<th scope="row">1. signup</th>' in unlocked
    shares = logged_in.get("/projects/default/shares").get_data(as_text=True)
    link_id = re.search(r"/shares/(\d+)/revoke", shares).group(1)
    revoked = logged_in.post(f"/projects/default/shares/{link_id}/revoke",
                             data={"csrf_token": csrf_token(shares)})
    assert revoked.status_code == 302
    assert stranger.get(f"/share/{token}").status_code == 404


def test_a_dashboard_link_shows_the_panels_without_account_links(app, logged_in,
                                                                  history):  # noqa: F811
    shares = logged_in.get("/projects/default/shares").get_data(as_text=True)
    made = logged_in.post("/projects/default/shares",
                          data={"csrf_token": csrf_token(shares), "saved_report": ""})
    token = re.search(r'data-testid="share-link">[^<]*/share/([^<]+)<',
                      made.get_data(as_text=True)).group(1)
    html = app.test_client().get(f"/share/{token}?filter=hour").get_data(as_text=True)
    assert 'id="recent"' in html and "cy/1" in html and "/projects/default/users" not in html
    assert "Log out" not in html


def saved_report_id(page: str) -> str:
    return re.search(r"/saved-reports/(\d+)/rename", page).group(1)


def test_a_saved_report_is_renamed_on_the_shares_page(app, logged_in, history):  # noqa: F811
    token = save_and_share(logged_in)
    page = logged_in.get("/projects/default/shares").get_data(as_text=True)
    report_id, csrf = saved_report_id(page), csrf_token(page)
    rename = f"/projects/default/saved-reports/{report_id}/rename"
    renamed = logged_in.post(rename, data={"csrf_token": csrf, "name": "  Signup to purchase "})
    assert renamed.status_code == 302 and renamed.location.endswith("/projects/default/shares")
    page = logged_in.get("/projects/default/shares").get_data(as_text=True)
    assert 'value="Signup to purchase"' in page and "Signup to buy" not in page
    assert "Signup to purchase" in app.test_client().get(f"/share/{token}").get_data(
        as_text=True)  # the link shows the report under its new name
    for name in ("", "   ", "x" * 201):
        bad = logged_in.post(rename, data={"csrf_token": csrf, "name": name})
        assert bad.status_code == 400
        assert "give the report a name of at most 200 characters" in bad.get_data(as_text=True)
    assert logged_in.post(rename, data={"csrf_token": csrf, "name": "x" * 200}).status_code == 302
    assert logged_in.post("/projects/default/saved-reports/999999/rename",
                          data={"csrf_token": csrf, "name": "fine"}).status_code == 404


def test_deleting_a_saved_report_revokes_its_links(app, logged_in, project,
                                                   history):  # noqa: F811
    from webapp.reports import saved

    token = save_and_share(logged_in)
    page = logged_in.get("/projects/default/shares").get_data(as_text=True)
    report_id, csrf = saved_report_id(page), csrf_token(page)
    with app.app_context():
        locked = saved.share(project.id, int(report_id), password="open sesame")
        other = saved.save(project.id, "Kept report", "breakdown", "property=plan")
        others = saved.share(project.id, other.id)
        dashboard = saved.share(project.id, None)
    deleted = logged_in.post(f"/projects/default/saved-reports/{report_id}/delete",
                             data={"csrf_token": csrf})
    assert deleted.status_code == 302 and deleted.location.endswith("/projects/default/shares")
    stranger = app.test_client()
    assert stranger.get(f"/share/{token}").status_code == 404
    assert stranger.get(f"/share/{locked}").status_code == 404
    assert stranger.get(f"/share/{others}").status_code == 200  # other links stay
    assert stranger.get(f"/share/{dashboard}?filter=hour").status_code == 200
    assert sql_scalar(app, "SELECT count(*) FROM saved_report WHERE id = %s", (report_id,)) == 0
    assert sql_scalar(app, "SELECT count(*) FROM share_link WHERE saved_report_id = %s",
                      (report_id,)) == 0  # gone with it
    page = logged_in.get("/projects/default/shares").get_data(as_text=True)
    assert "Signup to buy" not in page and f"/saved-reports/{report_id}/" not in page
    assert page.count('/revoke"') == 2  # the kept report's link and the dashboard's
    again = logged_in.post(f"/projects/default/saved-reports/{report_id}/delete",
                           data={"csrf_token": csrf})
    assert again.status_code == 404


def test_another_projects_saved_report_is_not_found(app, logged_in, project):
    from webapp.reports import saved
    from webapp.tenancy.tenants import create_project

    with app.app_context():
        other = create_project(project.organization, "Other shop", "other-shop")
        report = saved.save(other.id, "Other report", "breakdown", "property=m")
        token = saved.share(other.id, report.id)
    csrf = csrf_token(logged_in.get("/projects/default/shares").get_data(as_text=True))
    # the admin manages both projects, but a report is reached only through its own
    for action, form in (("rename", {"name": "mine now"}), ("delete", {})):
        answer = logged_in.post(f"/projects/default/saved-reports/{report.id}/{action}",
                                data={"csrf_token": csrf, **form})
        assert answer.status_code == 404, action
    assert sql_scalar(app, "SELECT name FROM saved_report WHERE id = %s",
                      (report.id,)) == "Other report"
    assert app.test_client().get(f"/share/{token}").status_code == 200
    assert logged_in.post(f"/projects/other-shop/saved-reports/{report.id}/rename",
                          data={"csrf_token": csrf, "name": "renamed"}).status_code == 302


def test_renaming_and_deleting_need_a_session_and_the_form_token(app, client, admin, project):
    from webapp.reports import saved

    with app.app_context():
        report = saved.save(project.id, "Kept", "breakdown", "property=m")
    csrf = csrf_token(client.get("/login").get_data(as_text=True))
    for action in ("rename", "delete"):
        path = f"/projects/default/saved-reports/{report.id}/{action}"
        refused = client.post(path, data={"csrf_token": csrf, "name": "gone"})
        assert refused.status_code == 302 and "/login" in refused.location, action
    login(client, ADMIN_EMAIL, ADMIN_PASSWORD)
    for action in ("rename", "delete"):
        path = f"/projects/default/saved-reports/{report.id}/{action}"
        assert client.post(path, data={"name": "gone"}).status_code == 400, action  # no token
    assert sql_scalar(app, "SELECT name FROM saved_report WHERE id = %s", (report.id,)) == "Kept"


def test_the_project_time_zone_is_set_on_the_manage_page(app, logged_in, project):
    page = logged_in.get("/manage/projects/default").get_data(as_text=True)
    token = csrf_token(page)
    bad = logged_in.post("/manage/projects/default/time-zone",
                         data={"csrf_token": token, "time_zone": "Mars/Base"})
    assert bad.status_code == 400 and "IANA" in bad.get_data(as_text=True)
    good = logged_in.post("/manage/projects/default/time-zone",
                          data={"csrf_token": token, "time_zone": "Asia/Kathmandu"})
    assert good.status_code == 302
    html = logged_in.get("/projects/default/reports/retention").get_data(as_text=True)
    assert "Time zone: Asia/Kathmandu" in html


def test_a_shared_report_whose_saved_query_is_invalid_is_a_clear_4xx(app, logged_in, project):
    from webapp.reports import saved

    with app.app_context():  # saved before its query was checked: one step, a bad window
        report = saved.save(project.id, "Broken", "funnel", "step=signup&window=forever")
        token = saved.share(project.id, report.id)
    page = app.test_client().get(f"/share/{token}")
    assert page.status_code == 422
    text = unescape(page.get_data(as_text=True))
    assert "This shared report cannot be shown" in text and "2 to 8 steps" in text
    assert '"window" must look like' in text
    # and such a query is no longer saved
    csrf = csrf_token(logged_in.get("/projects/default/shares").get_data(as_text=True))
    refused = logged_in.post("/projects/default/reports/funnel/save",
                             data={"csrf_token": csrf, "name": "Broken again",
                                   "query": "step=signup&window=forever"})
    assert refused.status_code == 400 and "2 to 8 steps" in refused.get_data(as_text=True)
    assert sql_scalar(app, "SELECT count(*) FROM saved_report") == 1


def test_the_saved_report_of_a_new_link_is_a_number_in_ascii_digits(app, logged_in, project):
    csrf = csrf_token(logged_in.get("/projects/default/shares").get_data(as_text=True))
    for value in ("²", "١", "1.5", "x", "9" * 30):
        answer = logged_in.post("/projects/default/shares",
                                data={"csrf_token": csrf, "saved_report": value})
        assert answer.status_code == 400, value
        assert "saved_report must be the number of a saved report" in answer.get_data(
            as_text=True)
    missing = logged_in.post("/projects/default/shares",
                             data={"csrf_token": csrf, "saved_report": "12345"})
    assert missing.status_code == 400 and "no such saved report" in missing.get_data(True)
    assert sql_scalar(app, "SELECT count(*) FROM share_link") == 0


def test_no_share_page_is_kept_in_a_cache(app, logged_in, history):  # noqa: F811
    token = save_and_share(logged_in, password="open sesame")
    stranger = app.test_client()
    form = stranger.get(f"/share/{token}")
    unlocked = stranger.post(f"/share/{token}", data={
        "csrf_token": csrf_token(form.get_data(as_text=True)), "password": "open sesame"})
    shares = logged_in.get("/projects/default/shares")
    made = logged_in.post("/projects/default/shares", data={
        "csrf_token": csrf_token(shares.get_data(as_text=True)), "saved_report": ""})
    dashboard = re.search(r'data-testid="share-link">[^<]*/share/([^<]+)<',
                          made.get_data(as_text=True)).group(1)
    answers = {"password form": form, "unlocked": unlocked,
               "report": stranger.get(f"/share/{token}"),
               "dashboard": stranger.get(f"/share/{dashboard}?filter=hour"),
               "shares page": shares, "new link": made,
               "unknown link": stranger.get("/share/nothing-here")}
    stream = stranger.get(f"/share/{dashboard}/stream", buffered=False)
    answers["stream"] = stream
    for what, answer in answers.items():
        directives = {d.strip() for d in answer.headers.get("Cache-Control", "").split(",")}
        assert {"no-store", "private"} <= directives, (what, answer.headers)
    stream.close()
    assert answers["report"].status_code == 200 and answers["unknown link"].status_code == 404
