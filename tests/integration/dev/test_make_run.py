"""`make run` as a new user meets it: the printed curl commands work as printed."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import wait_until
from webapp.dev.servers import free_port

ROOT = Path(__file__).resolve().parents[3]


def read_banner(process, lines: list[str], timeout: float = 120) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            raise AssertionError("make run exited early:\n" + "".join(lines))
        lines.append(line)
        if "Press Ctrl-C" in line:
            return "".join(lines)
    raise AssertionError("no banner:\n" + "".join(lines))


def curl(command: str) -> dict:
    result = subprocess.run(["bash", "-c", command + " --silent --show-error"],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed on this machine")
def test_make_run_prints_commands_that_work_and_ctrl_c_stops_everything(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in (
        "DATABASE_URL", "REDIS_URL", "WEBHOOK_API_KEY", "API_TOKEN", "SECRET_KEY")}
    env.update(PORT=str(port), PULSEBOARD_VAR=str(tmp_path / "var"), WEB_CONCURRENCY="1",
               PULSEBOARD_DOTENV=os.devnull, PYTHONUNBUFFERED="1")
    process = subprocess.Popen([sys.executable, "-m", "webapp.dev.run"], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True)
    lines: list[str] = []
    try:
        banner = read_banner(process, lines)
        commands = re.findall(r"^ {4}(curl .+?)(?<!\\)$", banner.replace("\\\n", ""), re.M)
        post, events, stats = commands
        assert f"http://127.0.0.1:{port}" in banner
        db_port = int(re.search(r"Database +postgresql://\S+:(\d+)/", banner).group(1))
        redis_port = int(re.search(r"Redis +redis://\S+:(\d+)/", banner).group(1))
        health_url = f"http://127.0.0.1:{port}/health"
        wait_until(lambda: curl_ok(health_url), timeout=60, what="a healthy install")

        accepted = curl(post)
        assert accepted["success"] and accepted["message"] == "Event accepted"
        posted_at = time.monotonic()
        event_id = accepted["data"]["eventId"]
        wait_until(lambda: [e["id"] for e in curl(events)["data"]["events"]] == [event_id],
                   timeout=1, interval=0.05, what="the event in /events")
        wait_until(lambda: curl(stats)["data"]["totalEvents"] == 1, timeout=1, interval=0.05,
                   what="the event in /events/stats")
        assert time.monotonic() - posted_at < 2
    finally:
        os.killpg(process.pid, signal.SIGINT)
        output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, "".join(lines) + output
    for freed in (port, db_port, redis_port):
        wait_until(lambda p=freed: nothing_listens(p), timeout=15, what=f"port {freed} to close")


def nothing_listens(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except ConnectionRefusedError:
        return True
    return False


def curl_ok(url: str) -> bool:
    result = subprocess.run(["curl", "-s", url], capture_output=True, text=True, timeout=10)
    try:
        return json.loads(result.stdout)["data"]["status"] == "healthy"
    except (ValueError, KeyError, TypeError):
        return False
