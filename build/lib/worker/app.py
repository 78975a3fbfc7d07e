"""The Celery application the worker and beat processes run, bound to a Flask app. It imports
the task and signal modules; they never import it (tasks are `shared_task`s)."""

from webapp import create_app
from webapp.reports.columns import memory
from worker import alerting, heartbeat, partitions, schedule, signals, sweeper, tasks  # noqa: F401

flask_app = create_app()
celery_app = flask_app.extensions["celery"]
celery_app.conf.update(beat_schedule=schedule.periodic(flask_app.config),
                       beat_scheduler=schedule.SCHEDULER)
# the workers compute the long reports: each keeps the packed days it read, for the next one
memory.keep_in_memory(flask_app.config["REPORT_MEMORY_MB"])
