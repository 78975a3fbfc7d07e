"""Celery bound to the Flask app: broker and result backend settings, and tasks that run
inside an app context."""

from __future__ import annotations

from celery import Celery, Task
from celery.backends.redis import RedisBackend, SentinelBackend

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

# Only report jobs keep a result (their state, progress and answer; webapp/reports/jobs.py),
# for as long as a job is followed: every other task ignores its result.
RESULTS_SECONDS = 600
RESULTS_PREFIX = "pulseboard:"  # result keys beside our others: `pulseboard:celery-task-meta-<id>`


class _Polled:
    """A result backend that is read by polling. Redis's own subscribes the sending process to
    the result channel of every task it sends, on a pub/sub connection it keeps and whose
    replies nothing here would read: the web sends tasks (counts of invalid events, alert
    deliveries, report jobs) but never waits on a channel."""

    def on_task_call(self, producer, task_id) -> None:
        pass


class PolledRedisBackend(_Polled, RedisBackend):
    pass


class PolledSentinelBackend(_Polled, SentinelBackend):
    pass


def result_backend(broker_url: str) -> str:
    """The result backend: the broker's Redis (or Sentinel), through a polled backend."""
    polled = PolledSentinelBackend if broker_url.startswith("sentinel://") else PolledRedisBackend
    return f"{__name__}:{polled.__name__}+{broker_url}"  # Celery's "class+URL" form


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
        result_backend=result_backend(broker_url),
        result_backend_transport_options={**sentinel_options, "global_keyprefix": RESULTS_PREFIX},
        result_backend_thread_safe=True,  # one client per process, not one per greenlet
        result_cache_max=-1,  # a job's state is read again, never from an earlier answer
        result_expires=RESULTS_SECONDS,
        redis_socket_connect_timeout=2,
        redis_socket_timeout=10,
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
