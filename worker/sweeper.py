"""The journal sweeper: a thread in each worker that stores events, which wakes a project
again when an acknowledged batch of it has no message left to reach it (see
webapp/ingest/journal.py)."""

from __future__ import annotations

import logging
import threading

from celery.signals import worker_ready, worker_shutdown

from webapp.ingest import accept, journal
from worker import roles

log = logging.getLogger(__name__)
_stop = threading.Event()


def _run(sweeper: journal.Sweeper, interval: float) -> None:
    while not _stop.wait(interval):
        try:
            sweeper.sweep(interval=interval)
        except Exception as exc:  # Redis away: try again next time
            log.warning("journal sweep failed: %s", exc)


@worker_ready.connect
def start_sweeper(sender, **_):
    if not roles.stores(sender):
        return
    from worker.app import celery_app, flask_app

    config = flask_app.config
    options = celery_app.conf.broker_transport_options or {}
    sweeper = journal.Sweeper(
        flask_app.extensions["redis"],
        lambda project, batch, _: journal.wake(flask_app.extensions["redis"], project,
                                               accept.wake_message(celery_app, project, batch)),
        grace=config["JOURNAL_GRACE_SECONDS"],
        queues=[celery_app.conf.task_default_queue],
        unacked_key=options.get("unacked_key", "unacked"),
    )
    threading.Thread(target=_run, args=(sweeper, config["JOURNAL_SWEEP_SECONDS"]),
                     name="journal-sweeper", daemon=True).start()


@worker_shutdown.connect
def stop_sweeper(**_):
    _stop.set()
