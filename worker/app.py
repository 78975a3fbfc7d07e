"""The Celery application the worker process runs, bound to a Flask app."""

from webapp import create_app
from webapp.reports.columns import memory

flask_app = create_app()
celery_app = flask_app.extensions["celery"]
# the workers compute the long reports: each keeps the packed days it read, for the next one
memory.keep_in_memory(flask_app.config["REPORT_MEMORY_MB"])

from . import alerting, heartbeat, partitions, signals, sweeper  # noqa: E402,F401  (worker signals)
