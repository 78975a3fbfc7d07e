"""Alert tasks: evaluate a project's rules after its commits, a periodic check of every
project (rules breached by time passing: "too few", or counts sliding out of a window), and
delivery attempts."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime

from celery import current_app as current_celery
from celery import shared_task
from celery.signals import worker_ready, worker_shutdown
from flask import current_app

from webapp.alerts import deliver, evaluate, oncommit
from webapp.ingest.queue import ALERTS_QUEUE
from webapp.live import publish
from worker import roles

log = logging.getLogger(__name__)

EVALUATE_TASK = "pulseboard.alerts_evaluate"
TICK_TASK = "pulseboard.alerts_tick"
DELIVER_TASK = deliver.TASK
QUEUE = ALERTS_QUEUE  # on the jobs workers: a slow receiver never holds a store worker
# A failed alert task is acknowledged, not left queued: the next check evaluates again, and a
# notice whose delivery task failed is still pending, so the periodic check sends it again.
OPTIONS = {"ignore_result": True, "acks_on_failure_or_timeout": True}
TICK_KEY = "pulseboard:alerts:tick"
_stop = threading.Event()


def after_commit(celery, project_id: int, claimed) -> None:
    """The commit won the project's next evaluation: run it once that second's commits land."""
    if claimed:
        celery.send_task(EVALUATE_TASK, args=[project_id], queue=QUEUE,
                         countdown=oncommit.EVALUATE_AFTER_S)


def send_now(celery, notice_ids) -> None:
    for notice_id in notice_ids:
        celery.send_task(DELIVER_TASK, args=[notice_id], queue=QUEUE)


def evaluate_and_notify(project_id: int) -> list[int]:
    redis = current_app.extensions["redis"]
    notices = evaluate.evaluate(redis, project_id, datetime.now(UTC))
    if notices:
        send_now(current_celery, notices)
        publish.mark_dirty(redis, current_celery, project_id)  # the dashboard's alert panel
    return notices


@shared_task(name=EVALUATE_TASK, **OPTIONS)
def evaluate_project(project_id: int) -> None:
    evaluate_and_notify(project_id)


@shared_task(name=TICK_TASK, **OPTIONS)
def tick() -> None:
    """Every project with active rules, then the deliveries whose retry is due."""
    for project_id in evaluate.projects_with_rules():
        try:
            evaluate_and_notify(project_id)
        except Exception:  # one project's trouble must not stop the others' alerts
            log.exception("evaluating the alerts of project %d failed", project_id)
    send_now(current_celery, deliver.overdue(datetime.now(UTC)))


@shared_task(name=DELIVER_TASK, **OPTIONS)
def deliver_notice(notice_id: int) -> None:
    config = current_app.config
    delay = deliver.attempt(notice_id, config["ALERTS_ALLOW_PRIVATE_DESTINATIONS"],
                            datetime.now(UTC))
    # A wait longer than half the broker's visibility timeout would come back as a duplicate
    # message: such retries are sent by the periodic check once due instead.
    if delay is not None and delay <= config["BROKER_VISIBILITY_TIMEOUT"] / 2:
        current_celery.send_task(DELIVER_TASK, args=[notice_id], queue=QUEUE, countdown=delay)


def _tick_every(redis, celery, interval: float) -> None:
    """One periodic check per interval across every worker: whoever takes the key sends it."""
    while not _stop.wait(interval):
        try:
            if redis.set(TICK_KEY, 1, nx=True, px=max(100, int(interval * 1000) - 100)):
                celery.send_task(TICK_TASK, queue=QUEUE)
        except Exception as exc:  # Redis away: try again next time
            log.warning("alert check not sent: %s", exc)


class RoutineAtDebug(logging.Filter):
    """Celery's "received" and "succeeded" lines of the periodic check at debug level: it runs
    every few seconds whether anything happens or not, and would drown the lines that matter
    (its failures still log as errors)."""

    def filter(self, record: logging.LogRecord) -> bool:
        data = getattr(record, "data", None)
        if record.levelno != logging.INFO or not (
                isinstance(data, dict) and data.get("name") == TICK_TASK):
            return True
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)


ROUTINE_LOGGERS = ("celery.worker.strategy", "celery.app.trace")
for _name in ROUTINE_LOGGERS:
    logging.getLogger(_name).addFilter(RoutineAtDebug())


@worker_ready.connect
def start_ticker(sender, **_):
    if not roles.checks_alerts(sender):
        return
    from worker.app import celery_app, flask_app

    threading.Thread(target=_tick_every,
                     args=(flask_app.extensions["redis"], celery_app,
                           max(0.2, flask_app.config["ALERTS_CHECK_SECONDS"])),
                     name="alerts-ticker", daemon=True).start()


@worker_shutdown.connect
def stop_ticker(**_):
    _stop.set()
