"""Worker tasks: store journaled batches of events (and index their properties), count rejected
ones, push live updates."""

from __future__ import annotations

import logging
import random
import time
from datetime import UTC, datetime
from urllib.parse import parse_qsl

import orjson
from celery import current_app as current_celery
from celery import shared_task
from celery.exceptions import Reject
from flask import current_app
from werkzeug.datastructures import MultiDict

from webapp import counters
from webapp.alerts import oncommit
from webapp.ingest import journal
from webapp.ingest.accept import RECORD_INVALID, STORE_PENDING, wake_message
from webapp.live import publish
from webapp.logs import task_request_ids
from webapp.models import Project
from webapp.reads import stats
from webapp.reports import cache as report_cache
from webapp.reports import jobs, params
from webapp.store import deadletters, insert, properties, uniques
from worker import alerting

log = logging.getLogger(__name__)

# PostgreSQL away or restarting: try again with exponential backoff and jitter.
RETRYABLE = insert.RETRYABLE
MAX_RETRIES = 20  # about 17 minutes of backoff before a batch becomes a dead letter
BACKOFF_CAP = 60


def backoff(retries: int) -> float:
    """Full jitter: a random wait up to 2^retries seconds, capped."""
    return random.uniform(0, min(BACKOFF_CAP, 2 ** retries))


def lag_seconds(events: list[dict]) -> float:
    # receipt times are all written by models.iso (one width, UTC), so they sort as text
    oldest = datetime.fromisoformat(min(item["rcv"] for item in events))
    return (datetime.now(UTC) - oldest).total_seconds()


def collect_wait(sent: float | None, now: float, collect: float) -> float:
    """How long a wake-up sent at `sent` (the web's clock) waits before taking its project's
    batches: until it is `collect` seconds old, and never longer than that (whatever the
    clocks' skew). One from a backlog is older already and takes them at once.

    Each task costs the same few milliseconds however many events it stores, so while the
    workers keep up, letting the batches of a few milliseconds share one task is most of
    what a stored event costs them; the request was answered long before."""
    if sent is None or collect <= 0:
        return 0.0
    return min(collect, max(0.0, sent + collect - now))


@shared_task(name=STORE_PENDING, bind=True, max_retries=MAX_RETRIES)
def store_pending(self, project_id: int) -> int:
    """Store the project's pending journaled batches in one transaction, then forget them (a
    retry or a redelivery of this task takes the same batches again)."""
    wait = collect_wait(self.request.get("sent"), time.time(),
                        current_app.config["INGEST_COLLECT_MS"] / 1000)
    if wait:  # the project's next batches join this task's instead of waking another
        time.sleep(wait)
    redis = current_app.extensions["redis"]
    taken = journal.take(redis, project_id, self.request.id,
                         wake_message(current_celery, project_id, journal.new_batch_id()))
    if not taken:
        return 0
    task_request_ids.set([r for entry in taken.values() for r in entry.get("r") or []])
    events = [event for entry in taken.values() for event in entry["e"]]
    return store(self, project_id, events, list(taken))


def store(task, project_id: int, events: list[dict], batch_ids: list[str] | None = None) -> int:
    """Insert, then refresh counters, caches and tabs; retries while PostgreSQL is away.

    Events PostgreSQL refuses are isolated (the rest of the batch is stored) and kept as dead
    letters with their error, so a bad event never blocks its neighbours nor loops."""
    try:
        inserted, refused = insert.store_isolating(project_id, events)
        for event, why in refused:
            keep_refused(project_id, event, why)
    except RETRYABLE as exc:
        if task.request.retries < task.max_retries:
            log.warning("database unavailable (%s); retry %d", exc, task.request.retries + 1)
            raise task.retry(exc=exc, countdown=backoff(task.request.retries)) from None
        return dead_letter(task, project_id, events, exc, batch_ids)
    if refused:
        kept_aside = {id(event) for event, _ in refused}
        events = [event for event in events if id(event) not in kept_aside]
        if not events:
            return finish_refused(task, project_id, batch_ids)
    # After the commit, in one round trip; a failure here retries the task, whose insert
    # then adds nothing.
    redis = current_app.extensions["redis"]
    pipe = redis.pipeline(transaction=False)
    uniques.record(pipe, project_id, events)
    if inserted:  # a batch whose rows were all there already is not counted again
        properties.record(pipe, project_id, events)
    counters.stored(pipe, inserted, lag_seconds(events))
    # unconditional: a redelivery after a failure here must still refresh caches and tabs
    stats.invalidate(pipe, project_id)
    report_cache.touch(pipe, project_id, events)
    push_at = publish.note_dirty(pipe, project_id)
    alerts_at = oncommit.on_commit(pipe, project_id, events, inserted)
    if batch_ids:  # last: whatever precedes it has been done
        journal.forget(pipe, *batch_ids, task_id=task.request.id)
    results = pipe.execute()
    publish.schedule_push(current_celery, project_id, results[push_at])
    if alerts_at is not None:
        alerting.after_commit(current_celery, project_id, results[alerts_at])
    log.info("stored %d of %d events for project %d", inserted, len(events), project_id)
    return inserted


def keep_refused(project_id: int, event: dict, why: str) -> None:
    """An event PostgreSQL refused, kept as a dead letter (escaped if need be)."""
    log.error("event %r of project %d refused: %s", event.get("id"), project_id, why)
    try:
        deadletters.record(project_id, [event], why)
    except RETRYABLE:
        raise
    except Exception:  # never seen: a redelivery would only fail the same way, so not looping
        log.critical("could not keep refused event %r of project %d: %r", event.get("id"),
                     project_id, event, exc_info=True)


def dead_letter(task, project_id: int, events: list[dict], error: Exception,
                batch_ids: list[str] | None) -> int:
    """A batch the database stayed away for through every retry: keep it for replay."""
    try:
        deadletters.record(project_id, events, error)
    except RETRYABLE as exc:  # still away: leave the message queued for a later worker
        raise Reject(f"could not keep a dead letter: {exc}", requeue=True) from exc
    return finish_refused(task, project_id, batch_ids)


def finish_refused(task, project_id: int, batch_ids: list[str] | None) -> int:
    """A batch with nothing left to store: forget it and show the dead letters."""
    redis = current_app.extensions["redis"]
    if batch_ids:  # kept as a dead letter now, not to be published again
        journal.forget(redis, *batch_ids, task_id=task.request.id)
    publish.mark_dirty(redis, current_celery, project_id)
    return 0

@shared_task(name=RECORD_INVALID, autoretry_for=RETRYABLE, retry_backoff=1, max_retries=10)
def record_invalid(project_id: int, count: int, at: str) -> None:
    insert.count_invalid(project_id, count, datetime.fromisoformat(at))
    redis = current_app.extensions["redis"]
    stats.invalidate(redis, project_id)
    publish.mark_dirty(redis, current_celery, project_id)


@shared_task(name=publish.PUSH_TASK, ignore_result=True)
def push_live(project_id: int) -> None:
    """Render the project's fragments once per filter and publish them to every open tab."""
    publish.push(current_app.extensions["redis"], project_id)


@shared_task(name=jobs.RUN_TASK, bind=True, ignore_result=False, acks_late=False)
def run_report(self, project_id: int, kind: str, query: str) -> dict:
    """Compute a long report (its result lands in the report cache too); the result backend
    keeps its state, from queued (webapp/reports/jobs.py) to the report or the failure."""
    jobs.mark_running(self)
    started = time.monotonic()
    try:
        data = params.run(kind, MultiDict(parse_qsl(query)), project_id,
                          Project.time_zone_of(project_id), datetime.now(UTC))
    except Exception:
        log.error("report %s of project %s failed", kind, project_id)
        raise  # Celery logs the traceback and stores the job as failed
    if not data["cached"]:  # how long the next run of this kind may take
        jobs.record_duration(current_app.extensions["redis"], project_id, kind,
                             time.monotonic() - started)
    return orjson.loads(orjson.dumps(data))  # as JSON reads it back: dates as ISO text
