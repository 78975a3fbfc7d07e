"""The workers' heartbeats in Redis, which /health reads: one for those that store events, one
for those that run reports and alerts.

A thread in each worker, not a beat task: a task proves only that some worker of a queue ran
it, and only while beat runs and the queue is not behind; the thread proves that this worker
process is up, whatever beat and the queue are doing (the store's lag is a check of its own)."""

from __future__ import annotations

import logging
import threading
import time

from celery.signals import worker_ready, worker_shutdown

from webapp.ingest.queue import HEARTBEAT_KEY, JOBS_HEARTBEAT_KEY
from worker import roles

log = logging.getLogger(__name__)
INTERVAL = 5
_stop = threading.Event()


def _beat(redis, keys: list[str], ttl: int) -> None:
    while not _stop.is_set():
        try:
            for key in keys:
                redis.set(key, f"{time.time():.3f}", ex=ttl)
        except Exception as exc:  # Redis away: try again next beat
            log.warning("heartbeat not written: %s", exc)
        _stop.wait(INTERVAL)


@worker_ready.connect
def start_heartbeat(sender, **_):
    flask_app = sender.app.flask_app
    keys = ([HEARTBEAT_KEY] if roles.stores(sender) else []) + (
        [JOBS_HEARTBEAT_KEY] if roles.runs_jobs(sender) else [])
    thread = threading.Thread(
        target=_beat,
        args=(flask_app.extensions["redis"], keys, flask_app.config["WORKER_HEARTBEAT_TTL"]),
        name="heartbeat",
        daemon=True,
    )
    thread.start()


@worker_shutdown.connect
def stop_heartbeat(**_):
    _stop.set()
