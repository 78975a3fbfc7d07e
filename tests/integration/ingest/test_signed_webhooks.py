"""Signed deliveries (Standard Webhooks) and rate limits on /webhook."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest
from standardwebhooks import Webhook

from tests.helpers import INGEST_HEADERS, settle, wait_stored
from webapp import create_app
from webapp.tenancy.tenants import add_signing_secret

pytestmark = pytest.mark.usefixtures("worker")
BODY = json.dumps({"eventType": "invoice.paid", "userId": "cus_1", "metadata": {"amount": 5}})


def signed_headers(secret: str, msg_id: str, at: float | None = None, body: str = BODY) -> dict:
    at = time.time() if at is None else at
    signature = Webhook(secret).sign(msg_id, datetime.fromtimestamp(at, UTC), body)
    return {"webhook-id": msg_id, "webhook-timestamp": str(int(at)),
            "webhook-signature": signature, "Content-Type": "application/json"}


@pytest.fixture
def secret(app, project):
    with app.app_context():
        return add_signing_secret(project, "sender").secret


def deliver(client, headers, body=BODY, path="/webhook/default"):
    return client.post(path, data=body, headers=headers)


def test_valid_signature_is_accepted_and_stored(client, app, secret):
    response = deliver(client, signed_headers(secret, "msg_ok"))
    assert response.status_code == 202, response.get_json()
    assert response.get_json()["data"]["eventId"] == "delivery:msg_ok"
    assert wait_stored(app, 1) == 1


def test_a_replayed_delivery_gets_the_same_answer_and_is_stored_once(client, app, secret):
    headers = signed_headers(secret, "msg_replay")
    first = deliver(client, headers)
    assert first.status_code == 202
    again = deliver(client, headers)
    assert again.status_code == 202 and again.get_json() == first.get_json()
    wait_stored(app, 1)
    assert settle(app, 1.0) == 1


@pytest.mark.parametrize("body", [BODY, json.dumps([{"eventType": "a", "userId": "1"},
                                                    {"eventType": "b", "userId": "2",
                                                     "id": "client-2"}])])
def test_a_senders_retry_with_a_fresh_timestamp_gets_the_same_2xx(client, app, redis, secret,
                                                                  body):
    """Standard Webhooks senders retry any non-2xx for days, signing each retry anew."""
    first = deliver(client, signed_headers(secret, "msg_retry", time.time() - 200, body), body)
    assert first.status_code == 202, first.get_json()
    retry = deliver(client, signed_headers(secret, "msg_retry", body=body), body)
    assert retry.status_code == 202 and retry.get_json() == first.get_json()
    count = len(json.loads(body)) if body.startswith("[") else 1
    assert settle(app, 1.0) == count
    # once the answer is forgotten, a retry is queued again and still stored once
    for key in redis.scan_iter("pulseboard:webhook-id:*"):
        redis.delete(key)
    late = deliver(client, signed_headers(secret, "msg_retry", body=body), body)
    assert late.status_code == 202
    ids = "eventIds" if count > 1 else "eventId"
    assert late.get_json()["data"][ids] == first.get_json()["data"][ids]
    assert settle(app, 1.0) == count


def test_an_id_marked_by_the_previous_version_is_not_refused(client, app, redis, project,
                                                             secret):
    """Before, an accepted webhook-id was marked with "1" (and a retry refused with 409)."""
    redis.set(f"pulseboard:webhook-id:{project.id}:msg_marked", "1", ex=60)
    assert deliver(client, signed_headers(secret, "msg_marked")).status_code == 202
    assert wait_stored(app, 1) == 1


def test_the_same_webhook_id_with_another_body_is_409(client, app, secret):
    assert deliver(client, signed_headers(secret, "msg_twice")).status_code == 202
    other = json.dumps({"eventType": "other", "userId": "cus_2"})
    response = deliver(client, signed_headers(secret, "msg_twice", body=other), other)
    assert response.status_code == 409
    assert "another body" in response.get_json()["message"]
    assert settle(app, 1.0) == 1


@pytest.mark.parametrize("tamper,status,message", [
    (lambda h, s: (h, BODY.replace("5", "500")), 401, "No matching signature"),
    (lambda h, s: (signed_headers("whsec_" + "A" * 43 + "=", "m"), BODY), 401,
     "No matching signature"),
    (lambda h, s: (signed_headers(s, "m", time.time() - 600), BODY), 401, "minutes old"),
    (lambda h, s: (signed_headers(s, "m", time.time() + 600), BODY), 401, "in the future"),
    (lambda h, s: ({k: v for k, v in h.items() if k != "webhook-signature"}, BODY), 400,
     "Missing signature headers"),
])
def test_bad_deliveries_are_refused_and_store_nothing(client, app, secret, tamper, status,
                                                      message):
    headers, body = tamper(signed_headers(secret, "m"), secret)
    response = deliver(client, headers, body)
    assert response.status_code == status
    assert message in response.get_json()["message"]
    assert settle(app, 0.5) == 0


def test_rotation_old_and_new_secrets_both_verify(client, app, project, secret):
    with app.app_context():
        newer = add_signing_secret(project, "rotated").secret
    assert deliver(client, signed_headers(secret, "msg_old")).status_code == 202
    assert deliver(client, signed_headers(newer, "msg_new")).status_code == 202
    from webapp.models import SigningSecret
    from webapp.tenancy.tenants import revoke_signing_secret

    with app.app_context():
        old_id = SigningSecret.get(SigningSecret.secret == secret).id
        revoke_signing_secret(project, old_id)
    assert deliver(client, signed_headers(secret, "msg_old2")).status_code == 401
    assert deliver(client, signed_headers(newer, "msg_new2")).status_code == 202


def test_keyed_request_with_a_signature_is_verified_too(client, secret):
    headers = dict(signed_headers(secret, "msg_both"), **INGEST_HEADERS)
    assert deliver(client, headers, path="/webhook").status_code == 202
    headers["webhook-signature"] = "v1,Zm9v"
    headers["webhook-id"] = "msg_both2"
    assert deliver(client, headers, path="/webhook").status_code == 401


@pytest.mark.parametrize("signature,status", [
    ("v1,\xe9t\xe9", 400), ("v1,\xff" * 50, 400), ("v1,not base64!", 400), ("v1,====", 400),
    ("\xe9", 400), ("v1,Zm9v", 401), ("v1,Zm9v v1,\xe9", 401),
])
@pytest.mark.parametrize("path,keyed", [("/webhook/default", False), ("/webhook", True)])
def test_garbage_in_the_signature_is_400_or_401(client, app, secret, signature, status, path,
                                                keyed):
    headers = {**signed_headers(secret, "msg_garbage"), "webhook-signature": signature,
               **(INGEST_HEADERS if keyed else {})}
    response = deliver(client, headers, path=path)
    assert response.status_code == status, response.get_json()
    assert settle(app, 0.3) == 0


def test_unknown_project_in_the_url_is_401(client, project):
    response = deliver(client, {"Content-Type": "application/json"}, path="/webhook/nope")
    assert response.status_code == 401


def test_rate_limit_answers_429_with_headers_and_spares_normal_traffic(services, project, app):
    limited = create_app({"DATABASE_URL": services.database_url,
                          "REDIS_URL": services.redis_url,
                          "WEBHOOK_RATE_LIMIT": "3 per minute"}, test=True)
    client = limited.test_client()
    event = json.dumps({"eventType": "a", "userId": "1"})
    answers = [client.post("/webhook", data=event, headers=INGEST_HEADERS,
                           content_type="application/json") for _ in range(4)]
    assert [a.status_code for a in answers] == [202, 202, 202, 429]
    refused = answers[-1]
    assert refused.get_json()["success"] is False
    assert refused.get_json()["message"].startswith("Rate limit exceeded")
    assert int(refused.headers["Retry-After"]) > 0
    assert refused.headers["X-RateLimit-Limit"] == "3"
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    # another key is not limited by the first one's traffic
    other = client.post("/webhook/default", data=event,
                        headers={"Content-Type": "application/json"})
    assert other.status_code != 429
