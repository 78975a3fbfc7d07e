"""The journal sweeper: a thread in each worker that stores events, which wakes a project
again when an acknowledged batch of it has no message left to reach it (see
webapp/ingest/journal.py).

A thread rather than a beat task: it runs every second (JOURNAL_SWEEP_SECONDS), and it is there
for the times a task would wait, when the store queue is behind or a worker died holding its
messages; it needs no beat process running to keep acknowledged batches moving."""

from __future__ import annotations

import logging
import threading

from celery.signals import worker_ready, worker_shutdown

from webapp.ingest import accept, journal, message
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
    celery_app = sender.app
    flask_app = celery_app.flask_app
    redis = flask_app.extensions["redis"]
    if problems := message.unacked_differences(celery_app, redis):
        # A sweeper that cannot see taken messages would publish their batches again and
        # again: refuse to start (the worker exits) rather than run blind.
        log.critical("kombu keeps unacknowledged messages differently from what the journal's "
                     "sweeper reads: %s", "; ".join(problems))
        raise SystemExit(1)
    config = flask_app.config
    sweeper = journal.Sweeper(
        redis,
        lambda project, batch, _: journal.wake(redis, project,
                                               accept.wake_message(celery_app, project, batch)),
        grace=config["JOURNAL_GRACE_SECONDS"],
        queues=[celery_app.conf.task_default_queue],
        unacked_key=message.unacked_key_of(celery_app),
    )
    threading.Thread(target=_run, args=(sweeper, config["JOURNAL_SWEEP_SECONDS"]),
                     name="journal-sweeper", daemon=True).start()


@worker_shutdown.connect
def stop_sweeper(**_):
    _stop.set()
