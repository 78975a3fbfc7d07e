"""Per-task context: the web requests' ids travel with the message into the worker's logs;
redeliveries are counted (a message that keeps coming back shows on /metrics); each pool
process keeps its long-lived objects out of the garbage collector's way."""

import gc
import logging

from celery.signals import task_postrun, task_prerun, worker_process_init

from webapp.logs import task_request_ids
from webapp.ops import metrics

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
    from worker.app import flask_app

    metrics.redelivered(flask_app.extensions["redis"])


@task_postrun.connect
def forget_request_ids(**_):
    task_request_ids.set(None)


@worker_process_init.connect
def freeze_startup_objects(**_):
    # A batch's events are thousands of fresh dicts; each collection they trigger would
    # otherwise walk every module, model and template the process loaded at start as well.
    gc.freeze()
