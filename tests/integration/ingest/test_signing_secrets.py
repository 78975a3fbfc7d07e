"""Signing secrets: revoked from the page or the command line by kind; the database away."""

from __future__ import annotations

import base64
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from tests.conftest import ROOT
from tests.helpers import INGEST_KEY, csrf_token, wait_until
from tests.integration.ingest.test_signed_webhooks import BODY, deliver, signed_headers
from webapp import create_app
from webapp.dev.servers import free_port
from webapp.models import ApiKey, SigningSecret
from webapp.tenancy import credentials
from webapp.tenancy.tenants import add_signing_secret
from webapp.tenancy.values import new_secret

pytestmark = pytest.mark.usefixtures("worker")


@pytest.fixture
def secrets(app, project):
    """Two live secrets; the first is #1, as the project's ingest key is key #1."""
    with app.app_context():
        return [add_signing_secret(project, name).secret for name in ("old", "new")]


def status(client, secret: str, msg_id: str) -> int:
    return deliver(client, signed_headers(secret, msg_id)).status_code


def refused_within_5s(client, secret: str) -> float:
    """Seconds until deliveries signed with `secret` are refused (asserts at most 5)."""
    started, attempt = time.monotonic(), iter(range(10_000))
    wait_until(lambda: status(client, secret, f"after-{next(attempt)}") == 401, timeout=5,
               interval=0.1, what="deliveries signed with the revoked secret to be refused")
    return time.monotonic() - started


def flask_cli(services, *args: str) -> subprocess.CompletedProcess:
    """The real command line, in a process of its own (its cache is not the web's)."""
    return subprocess.run([sys.executable, "-m", "flask", "--app", "webapp.wsgi", *args],
                          cwd=ROOT, env=services.env(), capture_output=True, text=True,
                          timeout=60)


def post_signed(url: str, secret: str, msg_id: str) -> int:
    request = urllib.request.Request(url + "/webhook/default", data=BODY.encode(),
                                     headers=signed_headers(secret, msg_id), method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as refused:
        return refused.code


def test_cli_revokes_a_signing_secret_by_kind_never_a_key_of_the_same_number(
        services, app, live_server, secrets):
    # the web process now has the secrets in its cache; the command line runs in another
    assert post_signed(live_server.url, secrets[0], "warm") == 202
    listed = flask_cli(services, "projects", "keys", "default").stdout
    assert "#1\tingest" in listed and "#1\tsigning-secret" in listed
    revoked = flask_cli(services, "projects", "revoke", "default", "signing-secret", "1")
    assert revoked.returncode == 0, revoked.stderr
    started, attempt = time.monotonic(), iter(range(10_000))
    wait_until(lambda: post_signed(live_server.url, secrets[0], f"after-{next(attempt)}") == 401,
               timeout=5, interval=0.1, what="the revoked secret to be refused")
    assert time.monotonic() - started <= 5.5
    assert post_signed(live_server.url, secrets[1], "other") == 202  # the other one verifies
    with app.app_context():
        assert ApiKey.project_id_for("ingest", INGEST_KEY) is not None  # key #1 untouched
        assert SigningSecret.get_by_id(1).revoked_at is not None
    wrong_kind = flask_cli(services, "projects", "revoke", "default", "ingest", "2")
    assert wrong_kind.returncode != 0 and "no live ingest #2" in wrong_kind.stderr
    with app.app_context():  # key #2 is the read token: a kind mismatch revokes nothing
        assert ApiKey.get_by_id(2).revoked_at is None
    again = flask_cli(services, "projects", "revoke", "default", "signing-secret", "1")
    assert again.returncode != 0 and "no live signing secret #1" in again.stderr


def test_the_management_page_revokes_a_signing_secret(app, logged_in, secrets):
    assert status(logged_in, secrets[0], "warm") == 202
    page = logged_in.get("/manage/projects/default").get_data(as_text=True)
    assert "/default/signing-secrets/1/revoke" in page  # under the project's handle
    response = logged_in.post("/manage/projects/default/signing-secrets/1/revoke",
                              data={"csrf_token": csrf_token(page)})
    assert response.status_code == 200
    assert "Revoke secret" in response.get_data(as_text=True)  # #2 is still live
    refused_within_5s(logged_in, secrets[0])
    assert status(logged_in, secrets[1], "other") == 202
    with app.app_context():
        assert ApiKey.select().where(ApiKey.revoked_at.is_null()).count() == 2
    missing = logged_in.post("/manage/projects/default/signing-secrets/99/revoke",
                             data={"csrf_token": csrf_token(page)})
    assert missing.status_code == 404


@pytest.fixture
def database_away(services, app):
    """Makes PostgreSQL refuse connections (nothing listens on the port the returned app
    uses; the database proxy is process-wide, so the session's app loses it too)."""
    from webapp.db import database, make_database

    def away():
        return create_app({"DATABASE_URL": f"postgresql://pb@127.0.0.1:{free_port()}/gone",
                           "REDIS_URL": services.redis_url}, test=True)

    yield away
    database.initialize(make_database(services.database_url))


def test_signed_route_answers_503_with_retry_after_when_the_database_is_away(app, secrets,
                                                                           database_away):
    with app.app_context():  # the project's slug is known, its secrets are not
        assert credentials.project_id_for_slug("default")
    web = database_away()
    client = web.test_client()
    response = deliver(client, signed_headers(secrets[0], "msg_away"))
    assert response.status_code == 503, response.get_json()
    assert response.headers["Retry-After"] == str(web.config["RETRY_AFTER_SECONDS"])
    assert response.get_json()["message"] == "Database unavailable, retry later"
    credentials.forget_keys()  # nothing known at all: the same answer
    assert deliver(client, signed_headers(secrets[0], "msg_away2")).status_code == 503


def test_signed_route_keeps_accepting_with_secrets_it_checked_lately(app, client, secrets,
                                                                     database_away):
    """As the keyed route does with keys it checked in the last seconds."""
    assert status(client, secrets[0], "warm") == 202
    away = database_away().test_client()
    assert status(away, secrets[0], "while-away") == 202


def test_a_secret_added_on_the_page_or_the_command_line_verifies_at_once(services, app,
                                                                         live_server, logged_in,
                                                                         secrets):
    """gunicorn remembers the project's secrets for a few seconds; a signature none of them
    made sends it to the database once more before it refuses, so a sender that rotates at
    once is not refused."""
    attempt = iter(range(10_000))  # gunicorn remembers these two (an earlier test's before)
    wait_until(lambda: post_signed(live_server.url, secrets[0], f"warm-{next(attempt)}") == 202,
               timeout=10, what="the project's secrets remembered")
    time.sleep(credentials.RELOAD_SECONDS)  # (past a lookup the warming itself may have caused)
    page = logged_in.get("/manage/projects/default").get_data(as_text=True)
    made = logged_in.post("/manage/projects/default/signing-secrets",
                          data={"csrf_token": csrf_token(page), "name": "rotated"})
    added = re.search(r'data-testid="new-secret">([^<]+)<', made.get_data(as_text=True))[1]
    assert post_signed(live_server.url, added, "page-at-once") == 202
    looked_up = time.monotonic()
    printed = flask_cli(services, "projects", "signing-secret", "default", "--name", "cli")
    assert printed.returncode == 0, printed.stderr
    added = re.search(r"whsec_\S+", printed.stdout)[0]
    time.sleep(max(0.0, looked_up + credentials.RELOAD_SECONDS - time.monotonic()))
    assert post_signed(live_server.url, added, "cli-at-once") == 202
    assert post_signed(live_server.url, secrets[1], "older-still") == 202
    wrong = "whsec_" + base64.b64encode(b"w" * 32).decode()
    assert post_signed(live_server.url, wrong, "never") == 401


def test_secrets_are_looked_up_again_at_most_once_a_second_per_project(app, secrets):
    """A flood of signatures that match nothing costs the database one lookup a second."""
    with app.app_context():
        project_id = SigningSecret.get().project_id
        assert len(credentials.signing_secrets(project_id)) == 2  # remembered
        SigningSecret.create(project=project_id, name="elsewhere", secret=new_secret())
        assert len(credentials.signing_secrets(project_id)) == 2  # still the remembered ones
        assert len(credentials.signing_secrets_after_miss(project_id)) == 3  # looked up again
        SigningSecret.create(project=project_id, name="later", secret=new_secret())
        assert len(credentials.signing_secrets_after_miss(project_id)) == 3  # not within the second
        time.sleep(credentials.RELOAD_SECONDS)
        assert len(credentials.signing_secrets_after_miss(project_id)) == 4
