"""Worker tasks: store a batch of events, count rejected ones, push live updates."""

from __future__ import annotations

import logging
import random
from datetime import UTC, datetime
from urllib.parse import parse_qsl

from celery import current_app as current_celery
from celery import shared_task
from celery.exceptions import Reject
from flask import current_app
from peewee import InterfaceError, OperationalError
from werkzeug.datastructures import MultiDict

from webapp.ingest import journal
from webapp.ingest.accept import RECORD_INVALID, STORE_BATCH, STORE_EVENTS
from webapp.live import publish
from webapp.models import Project
from webapp.ops import metrics
from webapp.reads import stats
from webapp.reports import jobs, params
from webapp.store import deadletters, insert, uniques

log = logging.getLogger(__name__)

# PostgreSQL away or restarting: try again with exponential backoff and jitter.
RETRYABLE = (OperationalError, InterfaceError)
MAX_RETRIES = 20  # about 17 minutes of backoff before a batch becomes a dead letter
BACKOFF_CAP = 60


def backoff(retries: int) -> float:
    """Full jitter: a random wait up to 2^retries seconds, capped."""
    return random.uniform(0, min(BACKOFF_CAP, 2 ** retries))


def lag_seconds(events: list[dict]) -> float:
    # receipt times are all written by models.iso (one width, UTC), so they sort as text
    oldest = datetime.fromisoformat(min(item["rcv"] for item in events))
    return (datetime.now(UTC) - oldest).total_seconds()


@shared_task(name=STORE_BATCH, bind=True, max_retries=MAX_RETRIES)
def store_batch(self, project_id: int, batch_id: str) -> int:
    """Store a journaled batch, then forget it (a retry or a redelivery finds it still there;
    a later delivery of a committed batch finds nothing to do)."""
    redis = current_app.extensions["redis"]
    entry = journal.read(redis, batch_id)
    if entry is None:
        return 0
    return store(self, project_id, entry["e"], batch_id)


@shared_task(name=STORE_EVENTS, bind=True, max_retries=MAX_RETRIES)
def store_events(self, project_id: int, events: list[dict]) -> int:
    """Store events carried in the message itself."""
    return store(self, project_id, events)


def store(task, project_id: int, events: list[dict], batch_id: str | None = None) -> int:
    """Insert, then refresh counters, caches and tabs; retries while PostgreSQL is away."""
    try:
        inserted = insert.store_batch(project_id, events)
    except RETRYABLE as exc:
        if task.request.retries < task.max_retries:
            log.warning("database unavailable (%s); retry %d", exc, task.request.retries + 1)
            raise task.retry(exc=exc, countdown=backoff(task.request.retries)) from None
        return dead_letter(project_id, events, exc, batch_id)
    except Exception as exc:  # a batch PostgreSQL refuses: keep it aside, do not retry forever
        log.exception("batch of %d events refused", len(events))
        return dead_letter(project_id, events, exc, batch_id)
    # After the commit, in one round trip; a failure here retries the task, whose insert
    # then adds nothing.
    redis = current_app.extensions["redis"]
    pipe = redis.pipeline(transaction=False)
    uniques.record(pipe, project_id, events)
    metrics.stored(pipe, inserted, lag_seconds(events))
    # unconditional: a redelivery after a failure here must still refresh caches and tabs
    stats.invalidate(pipe, project_id)
    watchers_at = publish.note_dirty(pipe, project_id)
    if batch_id is not None:
        journal.forget(pipe, batch_id)  # last: whatever precedes it has been done
    results = pipe.execute()
    publish.schedule_push(redis, current_celery, project_id, results[watchers_at])
    log.info("stored %d of %d events for project %d", inserted, len(events), project_id,
             extra={"request_ids": task.request.get("request_ids")})
    return inserted


def dead_letter(project_id: int, events: list[dict], error: Exception,
                batch_id: str | None) -> int:
    try:
        deadletters.record(project_id, events, error)
    except Exception as exc:  # not even the dead-letter table: leave the message queued
        raise Reject(f"could not keep a dead letter: {exc}", requeue=True) from exc
    redis = current_app.extensions["redis"]
    if batch_id is not None:  # kept as a dead letter now, not to be published again
        journal.forget(redis, batch_id)
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


@shared_task(name=jobs.RUN_TASK, ignore_result=True, acks_late=False)
def run_report(project_id: int, kind: str, query: str, job: str) -> None:
    """Compute a long report (its result lands in the report cache) and say how it went."""
    redis = current_app.extensions["redis"]
    jobs.set_state(redis, job, "running")
    try:
        params.run(kind, MultiDict(parse_qsl(query)), project_id,
                   Project.time_zone_of(project_id), datetime.now(UTC))
    except Exception:
        log.exception("report %s of project %s failed", kind, project_id)
        jobs.set_state(redis, job, "failed")
        return
    jobs.set_state(redis, job, "done")
