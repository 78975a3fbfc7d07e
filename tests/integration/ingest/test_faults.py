"""Faults during bursts: every event answered 202 is stored exactly once, and stats agree."""

from __future__ import annotations

import json
import signal
import threading
import time
from datetime import UTC, datetime

import pytest

from tests.conftest import Services, start_worker, stop_process, worker_alive
from tests.helpers import INGEST_HEADERS, INGEST_KEY, READ_HEADERS, READ_TOKEN, drain, wait_until
from webapp import counters, create_app
from webapp.dev.servers import PrivatePostgres, PrivateRedis
from webapp.ingest import accept, journal
from webapp.tenancy.tenants import ensure_default_project

pytestmark = pytest.mark.slow


def post(client, batch) -> int:
    """Events acknowledged (202) by one POST; 0 when refused."""
    response = client.post("/webhook", data=json.dumps(batch), headers=INGEST_HEADERS,
                           content_type="application/json")
    assert response.status_code in (202, 503), response.get_json()
    return len(batch) if response.status_code == 202 else 0


def batch(start: int, size: int = 500, prefix: str = "e") -> list[dict]:
    return [{"eventType": f"type_{i % 5}", "userId": f"u{i % 97}", "id": f"{prefix}-{i}"}
            for i in range(start, start + size)]


def rows(app) -> int:
    from webapp.db import database

    with app.app_context():
        return database.execute_sql("SELECT count(*) FROM event").fetchone()[0]


def assert_stored_exactly(app, client, accepted: int, timeout: float = 90) -> None:
    wait_until(lambda: rows(app) >= accepted, timeout=timeout, what=f"{accepted} stored events")
    redis = app.extensions["redis"]
    drain(redis)
    assert rows(app) == accepted
    stats = client.get("/events/stats?filter=hour", headers=READ_HEADERS).get_json()["data"]
    assert stats["totalEvents"] == accepted


def test_sigkill_of_the_worker_during_a_20000_event_burst(services, app, client, redis, project,
                                                         worker):
    worker.stop()  # this test runs its own worker, killed halfway
    since = time.time()
    victim = start_worker(services)
    wait_until(lambda: worker_alive(redis, since), timeout=30, what="worker")
    accepted = [0]

    def burst():
        local = app.test_client()
        for n in range(40):
            accepted[0] += post(local, batch(n * 500))

    sender = threading.Thread(target=burst)
    sender.start()
    wait_until(lambda: rows(app) >= 2000, timeout=60, what="the burst to be under way")
    stop_process(victim, signal.SIGKILL)  # mid-batch: messages held by it are not acknowledged
    killed_at = rows(app)
    sender.join()
    replacement = start_worker(services)
    try:
        assert killed_at < 20_000
        assert accepted[0] == 20_000
        assert_stored_exactly(app, client, accepted[0])
    finally:
        stop_process(replacement)


def stored_batches(app) -> set[str]:
    from webapp.db import database

    with app.app_context():
        return {row[0] for row in database.execute_sql(
            "SELECT DISTINCT split_part(event_id, '-', 1) FROM event")}


def test_a_wake_up_lost_with_its_worker_delays_the_next_batches_by_seconds(
        services, app, client, redis, project, worker):
    """A worker that dies holding a project's wake-up (taken off the queue, the batches not yet
    taken) leaves the project's wake-up flag behind; the project's batches are stored within
    seconds all the same, not once the sweeper's grace period (30 s in production) has passed."""
    worker.stop()  # this test runs its own worker, with production's grace period
    since = time.time()
    survivor = start_worker(services, JOURNAL_GRACE_SECONDS="30")
    held = "held-by-a-dead-worker"  # a queue no worker reads: where the wake-up went
    try:
        wait_until(lambda: worker_alive(redis, since), timeout=30, what="worker")
        celery = app.extensions["celery"]
        accepted = accept.prepare(json.dumps(batch(0, 10, prefix="b0")).encode(),
                                  datetime.now(UTC))
        batch_id = journal.new_batch_id()
        _, message = accept.wake_message(celery, project.id, batch_id, gather=True)
        # the web's write, as it is when a worker then takes the wake-up and dies
        assert journal.write(redis, batch_id, project.id, accepted.payload, [],
                             message=(held, message))
        answered = {"b0": time.monotonic()}
        seen: dict[str, float] = {}
        for n in range(1, 13):  # a batch every 0.25 s, then none
            assert post(client, batch(n * 10, 10, prefix=f"b{n}")) == 10
            answered[f"b{n}"] = time.monotonic()
            for name in stored_batches(app) - set(seen):
                seen[name] = time.monotonic()
            time.sleep(0.25)
        deadline = time.monotonic() + 10
        while set(seen) != set(answered) and time.monotonic() < deadline:
            for name in stored_batches(app) - set(seen):
                seen[name] = time.monotonic()
            time.sleep(0.05)
        waited = {name: round(seen.get(name, deadline) - at, 2) for name, at in answered.items()}
        assert max(waited.values()) < 3, waited
    finally:
        stop_process(survivor)
        redis.delete(held)


def test_a_message_lost_between_broker_and_worker_is_published_again(app, client, redis, project,
                                                                    worker):
    """Celery's Redis transport pops a message before it records it as taken: a worker killed
    in between takes the message with it. Its wake-up flag lapses, and the sweeper wakes the
    project again."""
    worker.stop()
    accepted = post(client, batch(0, prefix="lost"))
    assert accepted == 500
    assert redis.rpop("celery") is not None  # what such a worker took with it
    assert redis.llen("celery") == 0 and redis.hlen("unacked") == 0
    worker.ensure_running()
    assert_stored_exactly(app, client, accepted, timeout=60)
    assert int(redis.hget(counters.KEY, journal.REWOKEN)) == 1


def test_the_sweeper_publishes_only_batches_whose_message_is_gone(redis, clean, worker):
    worker.stop()  # its sweeper would act on this test's made-up batches
    redis.delete(journal.SWEEP_LOCK)  # as it may have left it, stopped mid-sweep
    sent = []
    queue, unacked = "sweeper-test", "sweeper-test-unacked"
    sweeper = journal.Sweeper(redis, lambda *args: sent.append(args), grace=5,
                              queues=[queue], unacked_key=unacked)
    for name in ("waiting", "taken", "lost", "recent"):
        journal.write(redis, name, 7, [{"id": name}], [f"req-{name}"])
    redis.set(journal.wake_key(7), "1")  # a wake-up not lapsed: only the grace finds them
    later = time.time() + 10
    redis.zadd(journal.DUE, {"recent": later - 1})  # younger than the grace period
    # shaped as Celery's Redis transport keeps them: a queued message, an unacknowledged one
    redis.lpush(queue, json.dumps({"headers": {"id": "waiting"}, "body": ""}))
    redis.hset(unacked, "tag", json.dumps([{"headers": {"id": "taken"}}, "", "celery"]))
    try:
        assert sweeper.sweep(now=later) == 0  # missing once: maybe being handed to a worker
        assert sweeper.sweep(now=later) == 1
        assert sent == [(7, "lost", ["req-lost"])]
        assert redis.zscore(journal.DUE, "lost") == later  # its grace period starts again
        assert sweeper.sweep(now=later) == 0
        journal.forget(redis, "waiting")
        assert redis.zcard(journal.DUE) == 3 and journal.read(redis, "waiting") is None
        redis.set(journal.SWEEP_LOCK, "1")  # another worker is sweeping
        assert sweeper.sweep(now=later + 60) == 0
    finally:
        redis.delete(queue, unacked, journal.DUE, journal.BATCHES, journal.SWEEP_LOCK,
                     journal.wake_key(7))


def test_every_event_posted_twice_is_stored_once(app, client, project, worker):
    accepted = 0
    for n in range(4):
        accepted += post(client, batch(n * 500, prefix="twice"))
    for n in reversed(range(4)):  # the same events again, in another order
        post(client, list(reversed(batch(n * 500, prefix="twice"))))
    assert_stored_exactly(app, client, accepted)


@pytest.fixture
def own_postgres(tmp_path):
    server = PrivatePostgres(tmp_path / "pg", database="faults").start()
    yield server
    server.stop("immediate")


def test_postgres_stopped_for_10s_during_a_burst(services, redis, own_postgres):
    """Ingestion keeps answering 202 while PostgreSQL is down; the worker retries with backoff."""
    isolated = Services(own_postgres.url, services.redis_url.rsplit("/", 1)[0] + "/3")
    app = create_app({"DATABASE_URL": isolated.database_url, "REDIS_URL": isolated.redis_url},
                     test=True)
    from webapp import db

    with app.app_context():
        db.migrate()
        ensure_default_project(INGEST_KEY, READ_TOKEN)
    client = app.test_client()
    since = time.time()
    worker = start_worker(isolated)
    wait_until(lambda: worker_alive(app.extensions["redis"], since), timeout=30, what="worker")
    try:
        accepted = post(client, batch(0))
        wait_until(lambda: rows(app) == accepted, timeout=30, what="the first batch")
        own_postgres.stop("fast")
        stopped = time.monotonic()
        for n in range(1, 11):  # the burst goes on while the database is away
            accepted += post(client, batch(n * 500))
            time.sleep(0.5)
        assert accepted == 11 * 500, "the webhook must keep answering 202 without PostgreSQL"
        time.sleep(max(0.0, 10 - (time.monotonic() - stopped)))
        own_postgres.start()
        assert_stored_exactly(app, client, accepted, timeout=120)
    finally:
        stop_process(worker)
        app.extensions["redis"].flushdb()


def test_redis_stopped_answers_503_then_stores_everything_acknowledged(services, app, tmp_path):
    broker = PrivateRedis(tmp_path / "redis").start()  # append-only, like the dev server
    isolated = Services(services.database_url, broker.url)
    web = create_app({"DATABASE_URL": isolated.database_url, "REDIS_URL": isolated.redis_url},
                     test=True)
    from webapp.db import database

    with web.app_context():
        database.execute_sql("TRUNCATE event, event_rollup_minute, event_rollup_hour, api_key, "
                             "project, organization RESTART IDENTITY CASCADE")
        ensure_default_project(INGEST_KEY, READ_TOKEN)
    client = web.test_client()
    worker = start_worker(isolated)
    try:
        accepted = sum(post(client, batch(n * 500)) for n in range(4))
        port = broker.port
        broker.stop()
        refused = client.post("/webhook", data=json.dumps(batch(9000)), headers=INGEST_HEADERS,
                              content_type="application/json")
        assert refused.status_code == 503 and refused.headers["Retry-After"]
        health = client.get("/health")
        assert health.status_code == 503 and health.get_json()["message"].startswith("Unhealthy")
        assert health.get_json()["data"]["checks"]["redis"].startswith("unreachable")
        broker = PrivateRedis(tmp_path / "redis", port=port).start()  # its append-only file
        wait_until(lambda: post(client, batch(4 * 500)) > 0, timeout=30, what="Redis back")
        accepted += 500
        assert_stored_exactly(web, client, accepted, timeout=90)
    finally:
        stop_process(worker)
        broker.stop()
