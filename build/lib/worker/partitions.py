"""Partition upkeep: a task, sent by beat every PARTITION_CHECK_SECONDS and by each worker that
runs jobs (reports, alerts) when it starts, that creates the days ahead and drops expired days
(one worker at a time does the work)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from celery import shared_task
from celery.signals import worker_ready
from flask import current_app

from webapp.ingest.queue import REPORTS_QUEUE
from webapp.reports import cache as report_cache
from webapp.store import partitions
from worker import roles

log = logging.getLogger(__name__)
UPKEEP_TASK = "pulseboard.partitions_upkeep"


def run_once(flask_app) -> dict | None:
    from webapp.db import database

    config = flask_app.config
    try:
        with flask_app.app_context(), database.connection_context():
            done = partitions.maintain(database, datetime.now(UTC), config["RETENTION_DAYS"],
                                       config["PARTITION_DAYS_AHEAD"])
            report_cache.forget(flask_app.extensions["redis"], done)  # reports over those days
            return done
    except Exception as exc:  # PostgreSQL away or a lock not granted: try again next time
        log.warning("partition upkeep failed: %s", exc)
        return None


@shared_task(name=UPKEEP_TASK, ignore_result=True, acks_on_failure_or_timeout=True)
def upkeep() -> None:
    run_once(current_app._get_current_object())


@worker_ready.connect
def upkeep_at_start(sender, **_):
    """A jobs worker's start makes the days ahead at once, not at beat's next check."""
    if roles.runs_jobs(sender):
        sender.app.send_task(UPKEEP_TASK, queue=REPORTS_QUEUE, ignore_result=True)
