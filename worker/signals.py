"""Per-task context: the web requests' ids travel with the message into the worker's logs."""

from celery.signals import task_postrun, task_prerun

from webapp.logs import task_request_ids


@task_prerun.connect
def remember_request_ids(task=None, **_):
    task_request_ids.set(task.request.get("request_ids") if task else None)


@task_postrun.connect
def forget_request_ids(**_):
    task_request_ids.set(None)
