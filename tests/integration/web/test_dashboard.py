"""Login and the dashboard page, server-rendered (no JavaScript needed)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest

from tests.helpers import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    INGEST_HEADERS,
    csrf_token,
    login,
    wait_stored,
)
from webapp.live.panels import render_fragments
from webapp.reads.windows import WINDOWS

NASTY_USER = "<script>alert('u')</script> \"quoted\" &amp; 'single'"
NASTY_META = {"html": "<img src=x onerror=alert(1)>", "entity": "&lt;b&gt; &copy;", "q": "\"'"}


def post(client, body):
    response = client.post("/webhook", data=json.dumps(body), headers=INGEST_HEADERS,
                           content_type="application/json")
    assert response.status_code == 202, response.get_json()


def test_dashboard_needs_a_login(client, project):
    response = client.get("/?filter=day")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_wrong_password_is_refused_with_a_message(client, admin):
    response = login(client, ADMIN_EMAIL, "wrong")
    assert response.status_code == 400
    assert "Wrong email or password." in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_login_without_csrf_token_is_refused(client, admin):
    response = client.post("/login", data={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    assert response.status_code == 400
    assert client.get("/").status_code == 302


def test_login_sets_a_safe_session_cookie_and_redirects_only_locally(client, admin):
    response = login(client, ADMIN_EMAIL, ADMIN_PASSWORD, next_url="https://evil.example/")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert client.get("/").status_code == 200


def test_logout_needs_the_csrf_token(logged_in):
    assert logged_in.post("/logout").status_code == 400
    page = logged_in.get("/").get_data(as_text=True)
    assert logged_in.post("/logout", data={"csrf_token": csrf_token(page)}).status_code == 302
    assert logged_in.get("/").status_code == 302


def test_full_page_shows_current_data_without_javascript(logged_in, app, worker):
    post(logged_in, [{"eventType": t, "userId": f"u{i}"} for i, t in
                     enumerate(["signup"] * 3 + ["page_view"] * 5 + ["purchase"])])
    wait_stored(app, 9)
    html = logged_in.get("/?filter=day").get_data(as_text=True)
    assert re.search(r'data-testid="total">9<', html)
    assert re.search(r'data-testid="unique-users">9<', html)
    for name in ("hour", "day", "week"):  # filters are plain links
        assert f'href="/?project=default&amp;filter={name}"' in html
    assert "page_view" in html and "55.56%" in html  # top types with percentages
    assert "<svg" in html and "<title>" in html and "<table>" in html  # chart + table
    assert 'sse-connect="/stream?project=default&amp;filter=day"' in html


def test_unknown_filter_and_project_are_clear_errors(logged_in):
    bad = logged_in.get("/?filter=year")
    assert bad.status_code == 400 and "must be one of" in bad.get_data(as_text=True)
    assert logged_in.get("/?project=nope").status_code == 404


def test_user_supplied_text_is_escaped_everywhere(logged_in, app, worker):
    post(logged_in, {"eventType": "xss", "userId": NASTY_USER, "metadata": NASTY_META})
    wait_stored(app, 1)
    html = logged_in.get("/").get_data(as_text=True)
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&#39;u&#39;)&lt;/script&gt;" in html
    assert "&amp;amp;" in html  # a literal "&amp;" from the user shows as text
    with app.test_request_context():
        fragments = render_fragments(1, WINDOWS["hour"], datetime.now(UTC))
    pushed = "".join(fragments.values())
    assert "<script>alert" not in pushed and "<img src=x" not in pushed
    assert "&lt;img src=x onerror=alert(1)&gt;" in pushed


@pytest.mark.parametrize("path", ["/events?filter=hour", "/events/stats?filter=hour"])
def test_read_api_accepts_the_dashboard_session(logged_in, path):
    response = logged_in.get(path)
    assert response.status_code == 200 and response.get_json()["success"] is True
    assert logged_in.get(path + "&project=other").status_code == 403


def test_login_attempts_are_throttled_per_address_and_account(services, admin):
    from webapp import create_app

    strict = create_app({"DATABASE_URL": services.database_url, "REDIS_URL": services.redis_url,
                         "LOGIN_RATE_LIMIT": "3 per minute"}, test=True)
    client = strict.test_client()
    codes = [login(client, ADMIN_EMAIL, "wrong").status_code for _ in range(4)]
    assert codes == [400, 400, 400, 429]
    page = login(client, ADMIN_EMAIL, ADMIN_PASSWORD)  # even the right password waits
    assert page.status_code == 429 and int(page.headers["Retry-After"]) > 0
    assert client.get("/").status_code == 302


def test_the_live_windows_read_in_the_projects_zone(logged_in, app, project, worker):
    from webapp.tenancy.tenants import set_time_zone

    with app.app_context():
        set_time_zone(project, "Asia/Kathmandu")  # +05:45
    at = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    post(logged_in, {"eventType": "visit", "userId": "u", "timestamp": at.isoformat()})
    wait_stored(app, 1)
    pages = [logged_in.get("/?filter=week").get_data(as_text=True)]
    with app.test_request_context():
        pages.append("".join(render_fragments(project.id, WINDOWS["week"],
                                              datetime.now(UTC)).values()))
    for html in pages:
        assert "last week, Asia/Kathmandu" in html and "Time (Asia/Kathmandu)" in html
        assert f">{at + timedelta(hours=5, minutes=45):%H:%M:%S}</time>" in html  # its clocks
