"""Celery's lines about the periodic tasks: sent by beat, received and succeeded at debug,
failures still at their own level."""

from __future__ import annotations

import logging

from worker.alerting import TICK_TASK, TRENDS_TASK, TRENDS_TICK_TASK
from worker.partitions import UPKEEP_TASK
from worker.signals import RoutineAtDebug


def record(level: int, name: str) -> logging.LogRecord:
    made = logging.LogRecord("celery.app.trace", level, __file__, 1, "Task %(name)s", None, None)
    made.data = {"name": name, "id": "x"}
    return made


def test_only_the_periodic_checks_info_lines_go_down_to_debug():
    logging.getLogger("celery.app.trace").setLevel(logging.INFO)
    try:
        for routine in (TICK_TASK, TRENDS_TICK_TASK, TRENDS_TASK):
            tick = record(logging.INFO, routine)
            assert RoutineAtDebug().filter(tick) is False and tick.levelname == "DEBUG"
        failed = record(logging.ERROR, TICK_TASK)
        assert RoutineAtDebug().filter(failed) is True and failed.levelname == "ERROR"
        stored = record(logging.INFO, "pulseboard.store_pending")
        assert RoutineAtDebug().filter(stored) is True and stored.levelname == "INFO"
    finally:
        logging.getLogger("celery.app.trace").setLevel(logging.NOTSET)


def test_beat_sending_a_periodic_task_goes_down_to_debug():
    logging.getLogger("celery.beat").setLevel(logging.INFO)
    try:
        for routine in (TICK_TASK, TRENDS_TICK_TASK, UPKEEP_TASK):
            sent = logging.LogRecord("celery.beat", logging.INFO, __file__, 1,
                                     "Scheduler: Sending due task %s (%s)", ("x", routine), None)
            assert RoutineAtDebug().filter(sent) is False and sent.levelname == "DEBUG"
        other = logging.LogRecord("celery.beat", logging.INFO, __file__, 1,
                                  "Scheduler: Sending due task %s (%s)",
                                  ("x", "pulseboard.store_pending"), None)
        assert RoutineAtDebug().filter(other) is True and other.levelname == "INFO"
    finally:
        logging.getLogger("celery.beat").setLevel(logging.NOTSET)
