"""Worker tasks: store a batch of events, count rejected ones."""

from __future__ import annotations

import logging
from datetime import datetime

from celery import current_app as current_celery
from celery import shared_task
from flask import current_app
from peewee import InterfaceError, OperationalError

from webapp import live, stats, storage, uniques
from webapp.ingest import RECORD_INVALID, STORE_EVENTS

log = logging.getLogger(__name__)

# PostgreSQL away or restarting: try again with exponential backoff and jitter.
RETRYABLE = (OperationalError, InterfaceError)


@shared_task(name=STORE_EVENTS, bind=True, autoretry_for=RETRYABLE, retry_backoff=1,
             retry_backoff_max=60, retry_jitter=True, max_retries=None)
def store_events(self, project_id: int, events: list[dict]) -> int:
    inserted = storage.store_batch(project_id, events)
    redis = current_app.extensions["redis"]
    # After the commit; a failure here retries the task, whose insert then adds nothing.
    uniques.record(redis, project_id, events)
    if inserted:
        stats.invalidate(redis, project_id)
        live.mark_dirty(redis, current_celery, project_id)
    log.info("stored %d of %d events for project %d (request %s)", len(inserted), len(events),
             project_id, self.request.get("request_id"))
    return len(inserted)


@shared_task(name=RECORD_INVALID, autoretry_for=RETRYABLE, retry_backoff=1, max_retries=10)
def record_invalid(project_id: int, count: int, at: str) -> None:
    storage.count_invalid(project_id, count, datetime.fromisoformat(at))
    redis = current_app.extensions["redis"]
    stats.invalidate(redis, project_id)
    live.mark_dirty(redis, current_celery, project_id)


@shared_task(name=live.PUSH_TASK, ignore_result=True)
def push_live(project_id: int) -> None:
    """Render the project's fragments once per filter and publish them to every open tab."""
    live.push(current_app.extensions["redis"], project_id)
