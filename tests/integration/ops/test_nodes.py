"""Several nodes behind nginx, as compose runs them: Debian's nginx on loopback with the
repository's nginx files, two gunicorn masters, two Celery worker nodes, one primary
PostgreSQL and one streaming replica."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

from bench.sse_clients import Fleet
from tests.conftest import ROOT, start_gunicorn, stop_process, worker_alive
from tests.helpers import INGEST_HEADERS, READ_TOKEN, drain, sql_scalar, wait_until
from tests.integration.ops import shipped_nginx


def start_nginx(root: Path, ports: list[int]) -> tuple[subprocess.Popen, str]:
    """The shipped site on loopback; its TLS listener is a plain one here, since the stream
    clients below speak plain HTTP (tests/integration/ops/test_tls.py covers TLS)."""
    proxy = shipped_nginx.start(root, ports, tls=False)
    return proxy.process, f"http://127.0.0.1:{proxy.https_port}"


def start_worker_node(services, name: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "--app", "worker.app", "worker", "--queues",
         "live,celery", "--loglevel=warning", "--concurrency=1", "--hostname", f"{name}@%h",
         "--without-gossip", "--without-mingle", "--without-heartbeat"],
        cwd=ROOT, env=services.env(), start_new_session=True)


def post(url: str, events: list[dict]) -> int:
    request = urllib.request.Request(url + "/webhook", data=json.dumps(events).encode(),
                                     headers={"Content-Type": "application/json",
                                              **INGEST_HEADERS})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 202
    return len(events)


def stream_through(proxy: str) -> Fleet:
    host, port = proxy.removeprefix("http://").split(":")
    clients = Fleet(host, int(port), "/stream?filter=hour",
                    {"Authorization": f"Bearer {READ_TOKEN}"}, 1)
    clients.open(timeout=15)
    return clients


def serves_a_stream(server) -> bool:
    """Whether a process of this gunicorn holds a connection on its port (only streams do:
    nothing else has gone through nginx, and streams close their upstream connection)."""
    port = int(server.url.rsplit(":", 1)[1])
    master = psutil.Process(server.process.pid)
    return any(conn.status == psutil.CONN_ESTABLISHED and conn.laddr.port == port
               for proc in [master, *master.children(recursive=True)]
               for conn in proc.net_connections(kind="tcp"))


def total_shown(clients: Fleet) -> int | None:
    """The total events of the newest counters panel the stream received."""
    for _, kind, data in reversed(clients.clients[0].events):
        found = re.search(r'data-testid="total">([\d,]+)<', data or "")
        if kind == "update" and found:
            return int(found.group(1).replace(",", ""))
    return None


def batch(size: int, start: int) -> list[dict]:
    return [{"eventType": f"type_{i % 5}", "userId": f"u{i % 37}", "id": f"n-{i}"}
            for i in range(start, start + size)]


@shipped_nginx.needs_nginx
@pytest.mark.slow
def test_nodes_behind_nginx_share_streams_and_survive_a_node(services, app, project, redis,
                                                               _worker_handle, tmp_path,
                                                               replica_url):
    _worker_handle.stop()  # exactly the two worker nodes below
    since = time.time()
    workers = [start_worker_node(services, name) for name in ("node1", "node2")]
    nodes = [start_gunicorn(services, DATABASE_REPLICA_URL=replica_url) for _ in range(2)]
    proxy, url = start_nginx(tmp_path, [int(node.url.rsplit(":", 1)[1]) for node in nodes])
    streams: list[Fleet] = []
    try:
        wait_until(lambda: worker_alive(redis, since), timeout=30, what="worker heartbeats")
        # a tab whose stream nginx sent to node 2 (round robin: at most a few tries)
        for _ in range(6):
            streams.append(stream_through(url))
            if serves_a_stream(nodes[1]) and not serves_a_stream(nodes[0]):
                break
            streams.pop().close()
            time.sleep(0.2)
        else:
            pytest.fail("nginx never sent a stream to node 2")
        tab = streams[-1]
        tab.run_until(lambda: total_shown(tab) == 0, 20, "the first panels")

        accepted = post(nodes[0].url, batch(300, 0))  # straight to node 1
        answered = time.monotonic()
        tab.run_until(lambda: total_shown(tab) == accepted, 10, "node 1's events on node 2")
        elapsed = time.monotonic() - answered
        assert elapsed <= 1.0, f"node 2 showed node 1's events after {elapsed:.2f} s"

        # node 2 dies mid-stream: the tab reconnects through nginx and lands on node 1
        os.killpg(nodes[1].process.pid, signal.SIGKILL)
        nodes[1].process.wait()
        tab.run_until(lambda: tab.clients[0].closed, 10, "the stream to end")
        accepted += post(url, batch(200, 300))  # through nginx, while node 2 is down
        streams.append(stream_through(url))
        again = streams[-1]
        assert serves_a_stream(nodes[0])
        again.run_until(lambda: total_shown(again) == accepted, 10, "current totals on node 1")
        accepted += post(url, batch(100, 500))
        again.run_until(lambda: total_shown(again) == accepted, 10, "the next push")

        drain(redis)
        assert sql_scalar(app, "SELECT count(*) FROM event") == accepted == 600
        assert int(redis.hget("pulseboard:metrics", "accepted")) == accepted
        # listings come from the replica, which has them all once it has replayed them
        listing = urllib.request.Request(url + "/events?filter=hour&limit=1000",
                                         headers={"Authorization": f"Bearer {READ_TOKEN}"})

        def listed() -> int:
            with urllib.request.urlopen(listing, timeout=10) as response:
                return json.loads(response.read())["data"]["count"]

        wait_until(lambda: listed() == accepted, timeout=20, what="every event listed")
    finally:
        for clients in streams:
            clients.close()
        stop_process(proxy)
        for process in [node.process for node in nodes] + workers:
            stop_process(process)
