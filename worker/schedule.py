"""The periodic work Celery beat sends (`celery --app worker.app beat`, one process per
install): the alert checks (counts, saved trends) and the partition upkeep, each to the jobs
workers' queues."""

from __future__ import annotations

from webapp.ingest.queue import ALERTS_QUEUE, REPORTS_QUEUE
from worker.alerting import TICK_TASK, TRENDS_TICK_TASK
from worker.partitions import UPKEEP_TASK

# Kept in the beat process's memory, not a file: intervals of seconds and hours lose nothing
# by starting over when beat restarts (the jobs workers also run the upkeep at their start).
SCHEDULER = "celery.beat:Scheduler"


def periodic(config) -> dict:
    """Celery's `beat_schedule` for the app's settings. A check not taken before the next one
    is due expires: a jobs worker back after a while finds one, not a pile."""
    alerts = max(0.2, config["ALERTS_CHECK_SECONDS"])
    trends = max(1.0, config["ALERTS_TREND_CHECK_SECONDS"])
    upkeep = config["PARTITION_CHECK_SECONDS"]
    return {
        "alerts-check": {"task": TICK_TASK, "schedule": alerts,
                         "options": {"queue": ALERTS_QUEUE, "expires": alerts}},
        "alerts-trends": {"task": TRENDS_TICK_TASK, "schedule": trends,
                          "options": {"queue": ALERTS_QUEUE, "expires": trends}},
        "partition-upkeep": {"task": UPKEEP_TASK, "schedule": upkeep,
                             "options": {"queue": REPORTS_QUEUE, "expires": upkeep}},
    }
