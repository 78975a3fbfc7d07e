"""Alert tasks: evaluate a project's rules after its commits, a periodic check of every
project (rules breached by time passing: "too few", or counts sliding out of a window; sent by
Celery beat, worker/schedule.py), the periodic check of the rules on saved trends (each
project's trends computed through the report cache, within a time limit), and delivery
attempts."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from celery import current_app as current_celery
from celery import shared_task
from flask import current_app

from webapp.alerts import deliver, evaluate, oncommit, rules, trends
from webapp.ingest.queue import ALERTS_QUEUE
from webapp.live import publish
from webapp.models import Project, SavedReport
from webapp.reports import params, saved
from webapp.reports.definition import time_limit

log = logging.getLogger(__name__)

EVALUATE_TASK = "pulseboard.alerts_evaluate"
TICK_TASK = "pulseboard.alerts_tick"
TRENDS_TICK_TASK = "pulseboard.alerts_trends_tick"
TRENDS_TASK = "pulseboard.alerts_trends"
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


def running_key(project_id: int) -> str:
    return f"pulseboard:alerts:trends-running:{project_id}"


def computer(project_id: int, now: datetime, limit: float):
    """How a check computes the project's saved trends: as the report pages and API do,
    through the report cache, each within `limit` seconds (TooSlow past it)."""
    zone = Project.time_zone_of(project_id)

    def compute(report: SavedReport) -> dict:
        with time_limit(limit * 1000):
            return params.run("trends", saved.args_of(report), project_id, zone, now)

    return compute


def evaluate_trends(project_id: int) -> list[int]:
    """Judge the project's rules on saved trends, each trend computed once, through the
    report cache, within ALERTS_TREND_TIME_LIMIT_SECONDS. A check of the project still
    running (its trends are slow) is not joined by a second one: this one is skipped."""
    config, redis = current_app.config, current_app.extensions["redis"]
    limit = config["ALERTS_TREND_TIME_LIMIT_SECONDS"]
    held = int(limit * rules.MAX_TREND_RULES) + 60  # the longest a check can take, and more
    if not redis.set(running_key(project_id), 1, nx=True, ex=held):
        return []
    try:
        now = datetime.now(UTC)
        notices = trends.evaluate(redis, project_id, now, computer(project_id, now, limit),
                                  limit)
    finally:
        redis.delete(running_key(project_id))
    if notices:
        send_now(current_celery, notices)
        publish.mark_dirty(redis, current_celery, project_id)
    return notices


@shared_task(name=TRENDS_TICK_TASK, **OPTIONS)
def trends_tick() -> None:
    """One check of each project with rules on saved trends, each a task of its own (one
    project's slow trends never hold up another's), expiring when the next tick is due."""
    every = max(1.0, current_app.config["ALERTS_TREND_CHECK_SECONDS"])
    for project_id in trends.projects_with_rules():
        current_celery.send_task(TRENDS_TASK, args=[project_id], queue=QUEUE, expires=every)


@shared_task(name=TRENDS_TASK, **OPTIONS)
def check_trends(project_id: int) -> None:
    evaluate_trends(project_id)


@shared_task(name=DELIVER_TASK, **OPTIONS)
def deliver_notice(notice_id: int) -> None:
    config = current_app.config
    delay = deliver.attempt(notice_id, config["ALERTS_ALLOW_PRIVATE_DESTINATIONS"],
                            datetime.now(UTC))
    # A wait longer than half the broker's visibility timeout would come back as a duplicate
    # message: such retries are sent by the periodic check once due instead.
    if delay is not None and delay <= config["BROKER_VISIBILITY_TIMEOUT"] / 2:
        current_celery.send_task(DELIVER_TASK, args=[notice_id], queue=QUEUE, countdown=delay)
