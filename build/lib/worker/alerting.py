"""Alert tasks: evaluate a project's rules after its commits, a periodic check of every
project (rules breached by time passing: "too few", or counts sliding out of a window; sent by
Celery beat, worker/schedule.py), and delivery attempts."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from celery import current_app as current_celery
from celery import shared_task
from flask import current_app

from webapp.alerts import deliver, evaluate, oncommit
from webapp.ingest.queue import ALERTS_QUEUE
from webapp.live import publish

log = logging.getLogger(__name__)

EVALUATE_TASK = "pulseboard.alerts_evaluate"
TICK_TASK = "pulseboard.alerts_tick"
DELIVER_TASK = deliver.TASK
QUEUE = ALERTS_QUEUE  # on the jobs workers: a slow receiver never holds a store worker
# A failed alert task is acknowledged, not left queued: the next check evaluates again, and a
# notice whose delivery task failed is still pending, so the periodic check sends it again.
OPTIONS = {"ignore_result": True, "acks_on_failure_or_timeout": True}


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
