"""Per-task context: the web requests' ids travel with the message into the worker's logs;
each pool process keeps its long-lived objects out of the garbage collector's way."""

import gc

from celery.signals import task_postrun, task_prerun, worker_process_init

from webapp.logs import task_request_ids


@task_prerun.connect
def remember_request_ids(task=None, **_):
    task_request_ids.set(task.request.get("request_ids") if task else None)


@task_postrun.connect
def forget_request_ids(**_):
    task_request_ids.set(None)


@worker_process_init.connect
def freeze_startup_objects(**_):
    # A batch's events are thousands of fresh dicts; each collection they trigger would
    # otherwise walk every module, model and template the process loaded at start as well.
    gc.freeze()
