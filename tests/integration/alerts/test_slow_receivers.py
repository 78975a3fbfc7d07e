"""A receiver that answers a byte every 2 s holds a delivery attempt for its 5 s only: the
attempt is logged as failed with its reason and retried as the backoff says."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from tests.receiver import STATUS, slow_receiver
from webapp.alerts import deliver, destinations, rules
from webapp.models import AlertNotice


def test_a_trickling_receiver_fails_the_attempt_within_5s_and_is_retried(app, project):
    with slow_receiver(trickle=STATUS + b"x" * 100) as address, app.app_context():
        values, problems = rules.validate(
            {"name": "Slow", "when": "error > 1 in 1 min", "url": f"http://{address}/hook"},
            allow_private=True)
        assert problems == {}
        rule = rules.create(project, values)
        notice_id = deliver.send_test(rule, datetime.now(UTC))
        started = time.monotonic()
        delay = deliver.attempt(notice_id, True, datetime.now(UTC))
        took = time.monotonic() - started
        finished = datetime.now(UTC)
        notice = AlertNotice.get_by_id(notice_id)
    assert destinations.TIMEOUT_SECONDS - 0.5 <= took <= destinations.TIMEOUT_SECONDS + 1.5, took
    assert delay == deliver.next_delay(1) == 1
    assert (notice.status, notice.attempts, notice.last_code, notice.last_error) == (
        "pending", 1, None, "TimeoutError: no complete answer within 5 s")
    assert timedelta(0) <= notice.next_try_at - finished <= timedelta(seconds=1)
