"""The Celery application the worker process runs, bound to a Flask app."""

from webapp import create_app

flask_app = create_app()
celery_app = flask_app.extensions["celery"]

from . import alerting, heartbeat, partitions, signals, sweeper  # noqa: E402,F401  (worker signals)
