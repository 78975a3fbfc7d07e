"""Sessions live on the server: logging out, a password change or a removed membership ends
them; only owners grant or take the owner role, and an organization keeps one owner."""

from __future__ import annotations

import pytest

from tests.helpers import ADMIN_EMAIL, ADMIN_PASSWORD, csrf_token, login
from webapp.models import Membership, Organization, User
from webapp.tenancy.accounts import create_user

NEW_PASSWORD = "a brand new password 42"


def token_of(client, path: str = "/manage/") -> str:
    return csrf_token(client.get(path).get_data(as_text=True))


def replay(app, cookie: str):
    """A fresh browser holding a saved copy of a session cookie."""
    other = app.test_client()
    other.set_cookie("session", cookie)
    return other


def logged_in_as(app, email: str, password: str):
    client = app.test_client()
    assert login(client, email, password).status_code == 302
    return client


def test_logout_ends_the_session_on_the_server(app, logged_in):
    saved = logged_in.get_cookie("session").value
    assert replay(app, saved).get("/").status_code == 200
    assert logged_in.post("/logout", data={"csrf_token": token_of(logged_in, "/")}).status_code \
        == 302
    assert replay(app, saved).get("/").status_code == 302  # the saved cookie no longer works
    assert replay(app, saved).get("/events").status_code == 401


def test_a_password_change_ends_the_other_sessions(app, admin):
    here, elsewhere = (logged_in_as(app, ADMIN_EMAIL, ADMIN_PASSWORD) for _ in range(2))
    assert here.get("/manage/").get_data(True).count('action="/manage/password"') == 1
    wrong = here.post("/manage/password", data={"csrf_token": token_of(here),
                                                 "current": "not it", "new": NEW_PASSWORD})
    assert wrong.status_code == 400 and "not your current password" in wrong.get_data(True)
    assert elsewhere.get("/").status_code == 200
    changed = here.post("/manage/password", data={"csrf_token": token_of(here),
                                                   "current": ADMIN_PASSWORD, "new": NEW_PASSWORD})
    assert changed.status_code == 302
    assert here.get("/").status_code == 200  # the session that changed it stays
    assert elsewhere.get("/").status_code == 302
    assert login(app.test_client(), ADMIN_EMAIL, ADMIN_PASSWORD).status_code == 400
    assert login(app.test_client(), ADMIN_EMAIL, NEW_PASSWORD).status_code == 302


@pytest.fixture
def team(app, admin):
    """The default organization: the admin (owner), an admin and a viewer, each logged in."""
    with app.app_context():
        organization = Organization.get(Organization.slug == "default")
        for email, role in (("second@example.test", "admin"), ("third@example.test", "viewer")):
            Membership.create(user=create_user(email, "their password 123"),
                              organization=organization, role=role)
    return {"owner": logged_in_as(app, ADMIN_EMAIL, ADMIN_PASSWORD),
            "admin": logged_in_as(app, "second@example.test", "their password 123"),
            "viewer": logged_in_as(app, "third@example.test", "their password 123")}


MEMBERS = "/manage/organizations/default/members"


def set_role(client, email: str, role: str):
    return client.post(MEMBERS, data={"csrf_token": token_of(client, MEMBERS), "email": email,
                                      "role": role, "password": "first password 123"})


def remove(app, client, email: str):
    with app.app_context():
        user_id = User.get(User.email == email).id
    return client.post(f"{MEMBERS}/{user_id}/remove",
                       data={"csrf_token": token_of(client, MEMBERS)})


def roles(app) -> dict[str, str]:
    with app.app_context():
        return {m.user.email: m.role for m in Membership.select(Membership, User).join(User)}


def test_only_an_owner_grants_or_removes_the_owner_role(app, team):
    admin = team["admin"]
    assert team["viewer"].get(MEMBERS).status_code == 403
    assert set_role(admin, "third@example.test", "owner").status_code == 403
    assert set_role(admin, "new@example.test", "owner").status_code == 403
    assert set_role(admin, ADMIN_EMAIL, "viewer").status_code == 403
    assert remove(app, admin, ADMIN_EMAIL).status_code == 403
    assert roles(app)[ADMIN_EMAIL] == "owner" and roles(app)["third@example.test"] == "viewer"
    assert "new@example.test" not in roles(app)
    assert set_role(admin, "third@example.test", "admin").status_code == 200  # not an owner
    assert set_role(team["owner"], "second@example.test", "owner").status_code == 200
    assert roles(app)["second@example.test"] == "owner"


def test_the_last_owner_can_be_neither_demoted_nor_removed(app, team):
    owner = team["owner"]
    demoted = set_role(owner, ADMIN_EMAIL, "admin")
    assert demoted.status_code == 400 and "last owner" in demoted.get_data(True)
    assert remove(app, owner, ADMIN_EMAIL).status_code == 400
    assert roles(app)[ADMIN_EMAIL] == "owner"
    assert set_role(owner, "second@example.test", "owner").status_code == 200
    assert set_role(owner, ADMIN_EMAIL, "admin").status_code == 200  # no longer the last
    assert roles(app)[ADMIN_EMAIL] == "admin"


def test_a_removed_member_loses_access_and_sessions(app, team):
    viewer = team["viewer"]
    assert viewer.get("/?project=default").status_code == 200
    assert remove(app, team["admin"], "third@example.test").status_code == 200
    assert "third@example.test" not in roles(app)
    assert viewer.get("/").status_code == 302  # logged out
    assert remove(app, team["admin"], "third@example.test").status_code == 404


def test_adding_a_member_does_not_tell_whether_the_address_has_an_account(app, team):
    """An account in another organization answers exactly as an unknown address does."""
    with app.app_context():
        create_user("elsewhere@example.test", "elsewhere password 1")
    owner = team["owner"]
    for email in ("elsewhere@example.test", "nobody@example.test"):
        bare = owner.post(MEMBERS, data={"csrf_token": token_of(owner, MEMBERS), "email": email,
                                         "role": "viewer"})
        assert bare.status_code == 400 and "first password" in bare.get_data(True)
    answers = [set_role(owner, email, "viewer")
               for email in ("elsewhere@example.test", "nobody@example.test")]
    assert [a.status_code for a in answers] == [200, 200]
    assert login(app.test_client(), "elsewhere@example.test", "elsewhere password 1") \
        .status_code == 302  # an existing account keeps its own password


def test_guessing_the_current_password_is_rate_limited(services, admin):
    from webapp import create_app

    strict = create_app({"DATABASE_URL": services.database_url, "REDIS_URL": services.redis_url,
                         "LOGIN_RATE_LIMIT": "2 per minute"}, test=True)
    client = logged_in_as(strict, ADMIN_EMAIL, ADMIN_PASSWORD)
    answers = [client.post("/manage/password", data={
        "csrf_token": token_of(client), "current": f"guess {i}", "new": NEW_PASSWORD})
        .status_code for i in range(3)]
    assert answers == [400, 400, 429]
