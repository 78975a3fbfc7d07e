"""Celery bound to the Flask app: broker settings, and tasks that run inside an app context."""

from __future__ import annotations

from celery import Celery, Task

from webapp import redisconn
from webapp.ingest import message

HEARTBEAT_KEY = "pulseboard:worker:heartbeat"  # written by the workers that store events
JOBS_HEARTBEAT_KEY = "pulseboard:jobs:heartbeat"  # by the workers that run reports and alerts

# Two kinds of worker process (the Procfile's `worker` and `jobs`): storing events never waits
# behind anything a tenant can make long, such as a report or an alert delivery to a slow
# receiver. Live pushes stay beside the store: they are short, coalesced per project (fewer
# while the store is behind, webapp/live/publish.py), and show what was just stored.
STORE_QUEUE = "celery"  # Celery's default: wake-ups to store a project's batches
LIVE_QUEUE = "live"  # pushes of the dashboards' panels
ALERTS_QUEUE = "alerts"  # alert evaluation and delivery
REPORTS_QUEUE = "reports"  # long reports (webapp/reports/jobs.py)
STORE_QUEUES = (STORE_QUEUE, LIVE_QUEUE)
JOBS_QUEUES = (ALERTS_QUEUE, REPORTS_QUEUE)


def celery_init_app(app) -> Celery:
    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    celery = Celery(app.name, task_cls=FlaskTask)
    visibility = app.config["BROKER_VISIBILITY_TIMEOUT"]
    broker_url, sentinel_options = redisconn.broker(app.config)
    celery.conf.update(
        broker_url=broker_url,
        broker_connection_retry_on_startup=True,
        broker_transport_options={
            # An unacknowledged message goes back to the queue after this many seconds
            # (a worker that died with it never acknowledges it).
            "visibility_timeout": visibility,
            # Sweep for such messages often enough that the timeout is what decides.
            "unacked_restore_interval": max(1, min(10, visibility // 2)),
            "unacked_restore_throttle": 1,
            # a worker killed while sweeping must not block the sweep for long
            "unacked_mutex_expire": max(10, min(300, visibility)),
            "socket_connect_timeout": 2,
            "socket_timeout": 10,
            **sentinel_options,
        },
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        task_acks_late=True,  # acknowledge after the transaction commits
        task_reject_on_worker_lost=True,  # a killed child puts its message back
        task_acks_on_failure_or_timeout=False,  # an unexpected error leaves the message queued
        worker_prefetch_multiplier=1,
        worker_hijack_root_logger=False,
        include=["worker.tasks", "worker.alerting"],
    )
    celery.pulseboard_redis = app.extensions["redis"]  # for counters kept beside the queue
    celery.pulseboard_group_ms = app.config["INGEST_GROUP_MS"]  # the group commit's longest wait
    celery.flask_app = app  # for the worker's signal handlers, which run outside any task
    celery.set_default()
    # The web writes wake-up messages by hand (webapp/ingest/message.py): a Celery upgrade that
    # changed the message refuses to start here rather than lose batches.
    message.check(celery)
    app.extensions["celery"] = celery
    return celery
