"""What a worker process does besides its tasks, by the queues it consumes: one that stores
events (`worker` in the Procfile) beats the store's heartbeat and sweeps the journal; one that
runs reports and alerts (`jobs`) beats its own, sends the periodic alert check and keeps the
partitions. A worker given every queue does both."""

from __future__ import annotations

from webapp.ingest.queue import ALERTS_QUEUE, JOBS_QUEUES, STORE_QUEUE


def consumed(sender) -> set[str]:
    """The queues of the worker whose `worker_ready` signal `sender` (its consumer) sent."""
    return set(sender.app.amqp.queues.consume_from)


def stores(sender) -> bool:
    return STORE_QUEUE in consumed(sender)


def runs_jobs(sender) -> bool:
    return bool(consumed(sender) & set(JOBS_QUEUES))


def checks_alerts(sender) -> bool:
    return ALERTS_QUEUE in consumed(sender)
