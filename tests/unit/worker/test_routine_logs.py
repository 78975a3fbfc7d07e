"""Celery's lines about the periodic alert check: received and succeeded at debug, failures
still at their own level."""

from __future__ import annotations

import logging

from worker.alerting import TICK_TASK, RoutineAtDebug


def record(level: int, name: str) -> logging.LogRecord:
    made = logging.LogRecord("celery.app.trace", level, __file__, 1, "Task %(name)s", None, None)
    made.data = {"name": name, "id": "x"}
    return made


def test_only_the_periodic_checks_info_lines_go_down_to_debug():
    logging.getLogger("celery.app.trace").setLevel(logging.INFO)
    try:
        tick = record(logging.INFO, TICK_TASK)
        assert RoutineAtDebug().filter(tick) is False and tick.levelname == "DEBUG"
        failed = record(logging.ERROR, TICK_TASK)
        assert RoutineAtDebug().filter(failed) is True and failed.levelname == "ERROR"
        stored = record(logging.INFO, "pulseboard.store_pending")
        assert RoutineAtDebug().filter(stored) is True and stored.levelname == "INFO"
    finally:
        logging.getLogger("celery.app.trace").setLevel(logging.NOTSET)
