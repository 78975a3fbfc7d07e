"""Small helpers shared by the tests: known keys, polling, direct SQL."""

from __future__ import annotations

import re
import time

from webapp.ingest import journal

INGEST_KEY = "pb_test_ingest_key_0123456789"
READ_TOKEN = "pb_test_read_token_0123456789"
ANNOTATION_KEY = "pb_note_test_annotation_key_0123"
INGEST_HEADERS = {"X-API-Key": INGEST_KEY}
READ_HEADERS = {"Authorization": f"Bearer {READ_TOKEN}"}
ANNOTATION_HEADERS = {"X-API-Key": ANNOTATION_KEY}
ADMIN_EMAIL = "admin@example.test"
ADMIN_PASSWORD = "correct horse battery staple"


def csrf_token(html: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


def login(client, email: str, password: str, next_url: str | None = None):
    page = client.get("/login")
    url = "/login" + (f"?next={next_url}" if next_url else "")
    return client.post(url, data={"email": email, "password": password,
                                  "csrf_token": csrf_token(page.get_data(as_text=True))})


def wait_until(predicate, timeout: float = 10, interval: float = 0.05, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def sql_scalar(app, sql: str, params: tuple = ()):
    from webapp.db import database

    with app.app_context():
        return database.execute_sql(sql, params).fetchone()[0]


def stored(app) -> int:
    return sql_scalar(app, "SELECT count(*) FROM event")


def wait_stored(app, expected: int, timeout: float = 15) -> int:
    wait_until(lambda: stored(app) >= expected, timeout=timeout, what=f"{expected} stored events")
    return stored(app)


def settle(app, seconds: float = 1.0) -> int:
    """The stored count once it has stopped changing for `seconds`."""
    last, since = stored(app), time.monotonic()
    while time.monotonic() - since < seconds:
        time.sleep(0.1)
        now = stored(app)
        if now != last:
            last, since = now, time.monotonic()
    return last


def queue_drained(redis) -> bool:
    """Nothing waiting in the broker, nothing taken but not yet acknowledged, and no batch
    journaled but not yet committed."""
    return (redis.llen("celery") == 0 and redis.hlen("unacked") == 0
            and redis.zcard(journal.DUE) == 0)


def drain(redis, timeout: float = 30) -> None:
    """Wait until the broker has stayed empty for a moment (a message being handed to a worker
    is briefly in neither the queue nor the unacknowledged set)."""
    def empty_for_a_while() -> bool:
        for _ in range(4):
            if not queue_drained(redis):
                return False
            time.sleep(0.05)
        return True

    wait_until(empty_for_a_while, timeout=timeout, what="the queue to drain")
