"""Keys: many per project, hashed, shown once, revocable; the environment's key replaced."""

from __future__ import annotations

import json
import re

from tests.helpers import INGEST_KEY, READ_TOKEN, wait_until
from webapp.models import ApiKey, digest
from webapp.tenancy.tenants import create_key, ensure_default_project, revoke_key

EVENT = json.dumps({"eventType": "a", "userId": "1"})


def post(client, key):
    return client.post("/webhook", data=EVENT, headers={"X-API-Key": key},
                       content_type="application/json").status_code


def test_keys_are_stored_hashed_and_revocable(app, client, project, worker):
    with app.app_context():
        key, secret = create_key(project, "ingest", "ci")
        assert ApiKey.get_by_id(key.id).key_hash == digest(secret)
        assert secret not in json.dumps(list(ApiKey.select().dicts()), default=str)
    assert post(client, secret) == 202
    with app.app_context():
        revoke_key(project, key.id)
    wait_until(lambda: post(client, secret) == 401, timeout=8, what="the revoked key to fail")
    assert post(client, INGEST_KEY) == 202  # other keys keep working


def test_a_new_environment_key_replaces_the_old_one(app, client, project):
    with app.app_context():
        ensure_default_project("pb_new_ingest_key_000000", READ_TOKEN)
        live = [k.key_hash for k in ApiKey.select().where(ApiKey.kind == "ingest",
                                                          ApiKey.revoked_at.is_null())]
    assert live == [digest("pb_new_ingest_key_000000")]


def test_cli_creates_projects_and_keys(app, project):
    runner = app.test_cli_runner()
    created = runner.invoke(args=["projects", "create", "Shop Front", "--org", "acme"])
    assert created.exit_code == 0, created.output
    ingest = re.search(r"ingest key (\S+)", created.output).group(1)
    with app.app_context():
        assert ApiKey.project_id_for("ingest", ingest) is not None
    listed = runner.invoke(args=["projects", "keys", "shop-front"])
    assert "first ingest key" in listed.output and ingest not in listed.output
    key_id = int(re.search(r"#(\d+)\tingest", listed.output).group(1))
    revoked = runner.invoke(args=["projects", "revoke", "shop-front", "ingest", str(key_id)])
    assert revoked.exit_code == 0
    with app.app_context():
        assert ApiKey.project_id_for("ingest", ingest) is None
    missing = runner.invoke(args=["projects", "keys", "nope"])
    assert missing.exit_code != 0 and "no project 'nope'" in missing.output


def test_a_crowd_with_one_key_costs_one_lookup(app, project, monkeypatch):
    """Thousands of tabs or senders arriving at once with the same key: one database query."""
    import threading
    import time

    from webapp.tenancy import credentials

    lookups = []
    real = ApiKey.project_id_for

    def slow_lookup(kind, secret):
        lookups.append(secret)
        time.sleep(0.05)
        return real(kind, secret)

    monkeypatch.setattr(ApiKey, "project_id_for", slow_lookup)
    answers = []

    def ask():
        with app.app_context():
            answers.append(credentials.project_of("ingest", INGEST_KEY))

    threads = [threading.Thread(target=ask) for _ in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [project.id] * 30 and len(lookups) == 1


def test_an_exhausted_connection_pool_answers_503(client, project, monkeypatch):
    from playhouse.pool import MaxConnectionsExceeded

    from webapp.web import api

    def busy(*args, **kwargs):
        raise MaxConnectionsExceeded("Max connections exceeded, timed out attempting to connect.")

    monkeypatch.setattr(api, "list_events", busy)
    response = client.get("/events", headers={"Authorization": f"Bearer {READ_TOKEN}"})
    assert response.status_code == 503 and response.headers["Retry-After"]
    assert response.get_json() == {"success": False, "message": "Database busy, retry later"}
