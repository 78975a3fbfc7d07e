"""A worker left running logs what happens, not that its periodic checks ran: the alert check
every few seconds (beat's sending it, the worker's receiving and running it) is logged at debug
level."""

from __future__ import annotations

import re
import subprocess
import sys
import time

from tests.conftest import ALL_QUEUES, ROOT, stop_process
from tests.helpers import wait_until
from webapp.alerts import rules


def test_the_periodic_alert_check_is_not_logged_at_info(services, app, project, receiver,
                                                         _worker_handle, tmp_path):
    _worker_handle.stop()  # this test runs its own, logging at info
    with app.app_context():  # fired by the periodic check alone: proof that it ran
        values, problems = rules.validate(
            {"name": "No signups", "when": "signup < 1 in 5 min", "url": receiver.url}, True)
        assert problems == {}
        rules.create(project, values)
    log = tmp_path / "worker.log"
    with log.open("w") as output:
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "--app", "worker.app", "worker", "--queues",
             ",".join(ALL_QUEUES), "--loglevel=info", "--concurrency=1", "--without-gossip",
             "--without-mingle", "--without-heartbeat", "--beat"],
            cwd=ROOT, env=services.env(LOG_LEVEL="info", LOG_FORMAT="text",
                                       ALERTS_CHECK_SECONDS="0.3"),
            stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_until(lambda: receiver.of_type("alert.fired"), timeout=30,
                   what="the periodic check to fire the rule")
        time.sleep(1.5)  # a few more checks
    finally:
        stop_process(worker)
    lines = log.read_text().splitlines()
    assert any(" INFO " in line for line in lines)  # it logs at info (its start, the delivery)
    ticks = [line for line in lines if re.search(r"alerts_tick\[.*(received|succeeded)", line)]
    assert ticks == []
    assert [line for line in lines if "alerts_tick" in line and "Sending due task" in line] == []
