"""A rule fires within seconds of the events that cross it, through gunicorn and a real Celery
worker, to a receiver that verifies the signature with the `standardwebhooks` library; a
failing receiver is retried; the rule resolves once its window has passed."""

from __future__ import annotations

import json
import time
import urllib.request
from datetime import UTC, datetime

from standardwebhooks import Webhook

from tests.helpers import INGEST_HEADERS, wait_until
from webapp.alerts import rules
from webapp.models import AlertNotice, AlertRule, iso


def post(url: str, events: list[dict]) -> None:
    request = urllib.request.Request(url + "/webhook", data=json.dumps(events).encode(),
                                     headers={**INGEST_HEADERS,
                                              "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 202


def errors(count: int, at: datetime) -> list[dict]:
    return [{"eventType": "error", "userId": f"u{i}", "timestamp": iso(at)} for i in range(count)]


def verified(secret: str, delivery) -> dict:
    return Webhook(secret).verify(delivery.body, delivery.headers)


def test_fires_within_5s_is_retried_and_resolves(app, project, live_server, worker, receiver):
    receiver.statuses = [500, 503]  # the first two attempts fail
    with app.app_context():
        values, problems = rules.validate(
            {"name": "Errors", "when": "error > 4 in 1 min", "url": receiver.url},
            allow_private=True)
        assert problems == {}
        rule = rules.create(project, values)
    time.sleep(1.5)  # the workers' rule cache: a new rule reaches every commit within 1 s
    # the events, the firing and its two retries (about 12 s in all) within one minute: the
    # rule resolves once that minute leaves the window, and must not before the checks below
    if datetime.now(UTC).second > 30:
        time.sleep(61 - datetime.now(UTC).second)
    stamp = datetime.now(UTC)

    post(live_server.url, errors(4, stamp))  # at the threshold, not past it
    time.sleep(2.5)
    assert receiver.deliveries == []

    post(live_server.url, errors(1, stamp))  # crosses it
    crossed = time.monotonic()
    first = wait_until(lambda: receiver.of_type("alert.fired"), timeout=10, what="an alert")[0]
    assert first.at - crossed < 5, f"fired {first.at - crossed:.2f}s after the crossing"
    payload = verified(rule.secret, first)
    assert payload["data"]["rule"]["condition"] == "error > 4 in 1 min"
    assert payload["data"]["value"] == 5 and payload["data"]["state"] == "firing"

    # retried with backoff (1 s, then 5 s) until the receiver answers 200
    fired = wait_until(lambda: [d for d in receiver.of_type("alert.fired")][2:] and
                       receiver.of_type("alert.fired"), timeout=20, what="two retries")
    assert [d.status for d in fired] == [500, 503, 200]
    assert len({d.headers["webhook-id"] for d in fired}) == 1  # one message, three attempts
    for delivery in fired:
        verified(rule.secret, delivery)
    assert fired[1].at - fired[0].at >= 0.9 and fired[2].at - fired[1].at >= 4.5
    with app.app_context():
        notice = wait_until(lambda: AlertNotice.get_or_none(AlertNotice.kind == "fired",
                                                            AlertNotice.status == "delivered"),
                            what="the delivery log")
        assert (notice.kind, notice.attempts, notice.last_code) == ("fired", 3, 200)
        assert AlertRule.get_by_id(rule.id).state == "firing"

    # the minute of the events leaves the one-minute window: the rule resolves
    resolved = wait_until(lambda: receiver.of_type("alert.resolved"), timeout=80,
                          interval=0.2, what="the resolved message")
    body = verified(rule.secret, resolved[0])
    assert body["data"]["state"] == "ok" and body["data"]["value"] == 0
    assert len(receiver.of_type("alert.fired")) == 3  # no new firing meanwhile
