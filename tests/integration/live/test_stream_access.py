"""An open stream ends within 5 s of its token being revoked or its user losing access (the
session ended, the password changed, the membership removed); HEAD opens nothing."""

from __future__ import annotations

import re
import time
import urllib.request
from urllib.parse import urlsplit

import pytest
import requests

from bench.sse_clients import Fleet
from tests.helpers import ADMIN_EMAIL, ADMIN_PASSWORD, READ_HEADERS, wait_until
from webapp.live.publish import watched_filters
from webapp.live.stream import open_clients
from webapp.models import Membership, Organization, User, digest
from webapp.tenancy import accounts, tenants

pytestmark = pytest.mark.usefixtures("worker")
WITHIN = 5  # seconds


def streams(server, headers: dict, count: int = 1) -> Fleet:
    url = urlsplit(server.url)
    fleet = Fleet(url.hostname, url.port, "/stream?filter=hour", headers, count)
    fleet.open(timeout=10)
    assert all(c.status == 200 for c in fleet.clients)
    return fleet


def ended_within(fleet: Fleet, clients, seconds: float = WITHIN) -> float:
    return fleet.run_until(lambda: all(c.closed for c in clients), seconds,
                           "the streams to end")


def browser(server, email: str, password: str) -> requests.Session:
    """A logged-in browser session against the live server."""
    session = requests.Session()
    page = session.get(server.url + "/login", timeout=10).text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    answer = session.post(server.url + "/login", timeout=10, allow_redirects=False,
                          data={"email": email, "password": password, "csrf_token": token})
    assert answer.status_code == 302
    return session


def cookie_header(session: requests.Session) -> dict:
    return {"Cookie": f"session={session.cookies['session']}"}


def test_a_stream_ends_within_5s_of_its_token_being_revoked(live_server, app, project):
    with app.app_context():
        key, token = tenants.create_key(project, "read", "to revoke")
    kept = streams(live_server, READ_HEADERS)
    doomed = streams(live_server, {"Authorization": f"Bearer {token}"}, 2)
    try:
        doomed.run_for(0.5)
        assert not any(c.closed for c in doomed.clients)
        with app.app_context():
            tenants.revoke_key(project, key.id)
        ended_within(doomed, doomed.clients)
        kept.run_for(0.5)
        assert not kept.clients[0].closed  # another token's stream goes on
    finally:
        kept.close()
        doomed.close()


def test_session_streams_end_on_logout_password_change_or_removal(live_server, app, admin):
    with app.app_context():
        viewer = accounts.create_user("viewer@example.test", "viewer password 12")
        organization = Organization.get(Organization.slug == "default")
        Membership.create(user=viewer, organization=organization, role="viewer")
    out, changed = (browser(live_server, ADMIN_EMAIL, ADMIN_PASSWORD) for _ in range(2))
    removed = browser(live_server, "viewer@example.test", "viewer password 12")
    fleets = {name: streams(live_server, cookie_header(each))
              for name, each in (("out", out), ("changed", changed), ("removed", removed))}
    try:
        page = out.get(live_server.url + "/", timeout=10).text
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        assert out.post(live_server.url + "/logout", data={"csrf_token": token},
                        allow_redirects=False, timeout=10).status_code == 302
        ended_within(fleets["out"], fleets["out"].clients)
        assert not fleets["changed"].clients[0].closed
        with app.app_context():
            accounts.set_password(User.get(User.email == ADMIN_EMAIL), "another password 1")
        ended_within(fleets["changed"], fleets["changed"].clients)
        assert not fleets["removed"].clients[0].closed
        with app.app_context():
            Membership.delete().where(Membership.user == viewer.id).execute()
        ended_within(fleets["removed"], fleets["removed"].clients)
    finally:
        for fleet in fleets.values():
            fleet.close()


def test_head_registers_no_client_and_claims_no_channel(live_server, redis, project):
    for _ in range(3):
        answer = requests.head(live_server.url + "/stream?filter=week", headers=READ_HEADERS,
                               timeout=10)
        assert answer.status_code == 200
        assert answer.headers["Content-Type"].startswith("text/event-stream")
    assert requests.head(live_server.url + "/stream", timeout=10).status_code == 401
    time.sleep(1.5)  # a registered stream is reported within half a second
    assert open_clients(redis) == 0
    assert "week" not in watched_filters(redis, project.id)
    wait_until(lambda: open_clients(redis) == 0, timeout=1, what="no open stream")


def test_a_shared_dashboard_is_live_until_its_link_is_revoked(live_server, app, project):
    from tests.integration.live.test_live import http_status, post, saw_total
    from webapp.models import ShareLink
    from webapp.reports import saved

    with app.app_context():
        token = saved.share(project.id, None)
        protected = saved.share(project.id, None, password="a share password")
        link_id = ShareLink.get(ShareLink.token_hash == digest(token)).id
    url = urlsplit(live_server.url)
    shared = Fleet(url.hostname, url.port, f"/share/{token}/stream?filter=hour", {}, 1)
    shared.open(timeout=10)
    (client,) = shared.clients
    try:
        assert client.status == 200
        page = requests.get(f"{live_server.url}/share/{token}", timeout=10).text
        assert f'sse-connect="/share/{token}/stream?filter=day"' in page
        post(live_server, [{"eventType": "shared", "userId": f"u{i}"} for i in range(3)])
        shared.run_until(lambda: saw_total(client, 3), 10, "the shared view to get the events")
        with app.app_context():
            assert saved.revoke(project.id, link_id)
        ended_within(shared, shared.clients)
    finally:
        shared.close()
    for path, status in ((f"/share/{token}/stream", 404),  # revoked
                         (f"/share/{protected}/stream", 403),  # not unlocked in this browser
                         ("/share/no-such-token/stream", 404)):
        assert http_status(urllib.request.Request(live_server.url + path)) == status, path
