"""Partition upkeep: a thread in each worker that runs jobs (reports, alerts) that, at start
and every PARTITION_CHECK_SECONDS, creates the days ahead and drops expired days (one worker
at a time does the work)."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime

from celery.signals import worker_ready, worker_shutdown

from webapp.reports import cache as report_cache
from webapp.store import partitions
from worker import roles

log = logging.getLogger(__name__)
_stop = threading.Event()


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


def _run(flask_app, interval: float) -> None:
    run_once(flask_app)
    while not _stop.wait(interval):
        run_once(flask_app)


@worker_ready.connect
def start_upkeep(sender, **_):
    if not roles.runs_jobs(sender):
        return
    from worker.app import flask_app

    threading.Thread(target=_run, args=(flask_app, flask_app.config["PARTITION_CHECK_SECONDS"]),
                     name="partition-upkeep", daemon=True).start()


@worker_shutdown.connect
def stop_upkeep(**_):
    _stop.set()
