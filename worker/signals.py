"""Per-task context: the web requests' ids travel with the message into the worker's logs;
redeliveries are counted (a message that keeps coming back shows on /metrics); a long report
that a board's tile waits for asks for a push once it has ended; routine periodic tasks log at
debug; each pool process keeps its long-lived objects out of the garbage collector's way."""

import gc
import logging

from celery.signals import task_postrun, task_prerun, worker_process_init

from webapp import counters
from webapp.live import publish, tiles
from webapp.logs import task_request_ids
from webapp.reports.jobs import RUN_TASK
from worker.alerting import TICK_TASK, TRENDS_TASK, TRENDS_TICK_TASK
from worker.partitions import UPKEEP_TASK

log = logging.getLogger(__name__)


@task_prerun.connect
def remember_request_ids(task=None, **_):
    task_request_ids.set(task.request.get("request_ids") if task else None)


@task_prerun.connect
def count_redelivery(task=None, **_):
    """A message taken again after a worker died or a visibility timeout passed (the broker
    marks it): expected now and then, a problem when the count keeps growing."""
    if task is None or not (task.request.delivery_info or {}).get("redelivered"):
        return
    log.warning("task %s (%s) delivered again", task.name, task.request.id)
    counters.redelivered(task.app.pulseboard_redis)


@task_postrun.connect
def forget_request_ids(**_):
    task_request_ids.set(None)


@task_postrun.connect
def push_waiting_tiles(task=None, task_id=None, args=None, **_):
    """A long report ended, its result (or its failure) stored: when a board's tile waits for
    it, ask for a push, which fills the tile in (or says the report failed)."""
    if task is None or task.name != RUN_TASK or not args:
        return
    redis, project_id = task.app.pulseboard_redis, args[0]
    try:
        if tiles.report_done(redis, task_id, project_id):
            publish.mark_dirty(redis, task.app, project_id)
    except Exception as exc:  # the tile fills in at the project's next push instead
        log.warning("could not ask for a push of project %s's tiles: %s", project_id, exc)


@worker_process_init.connect
def freeze_startup_objects(**_):
    # A batch's events are thousands of fresh dicts; each collection they trigger would
    # otherwise walk every module, model and template the process loaded at start as well.
    gc.freeze()


# (the trend check: a tick, then a task per project with rules on saved trends)
ROUTINE_TASKS = (TICK_TASK, TRENDS_TICK_TASK, TRENDS_TASK, UPKEEP_TASK)


class RoutineAtDebug(logging.Filter):
    """Beat's "sending due task" line and Celery's "received" and "succeeded" lines of the
    periodic tasks at debug level: they run every few seconds whether anything happens or not,
    and would drown the lines that matter (their failures still log as errors)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno != logging.INFO or not self.routine(record):
            return True
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)

    @staticmethod
    def routine(record: logging.LogRecord) -> bool:
        data = getattr(record, "data", None)  # the worker's lines about a task
        if isinstance(data, dict):
            return data.get("name") in ROUTINE_TASKS
        args = record.args if isinstance(record.args, tuple) else ()  # beat's
        return any(arg in ROUTINE_TASKS for arg in args)


ROUTINE_LOGGERS = ("celery.worker.strategy", "celery.app.trace", "celery.beat")
for _name in ROUTINE_LOGGERS:
    logging.getLogger(_name).addFilter(RoutineAtDebug())
