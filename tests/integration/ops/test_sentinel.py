"""Redis through Sentinel: web and worker find the master with Debian's redis-sentinel, for
the cache, the broker, pub/sub, the rate limits and report jobs' results alike (REDIS_URL
points nowhere)."""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.request

import pytest
from redis import Redis

from bench.sse_clients import Fleet
from tests.conftest import start_gunicorn, start_worker, stop_process
from tests.helpers import INGEST_HEADERS, READ_TOKEN, sql_scalar, wait_until
from webapp import create_app
from webapp.dev.servers import PrivateRedis, free_port, wait_for_port
from webapp.reports import jobs

SENTINEL = shutil.which("redis-sentinel") or "/usr/bin/redis-sentinel"
pytestmark = pytest.mark.skipif(shutil.which("redis-sentinel") is None,
                                reason="needs Debian's redis-sentinel (.ci/run installs it)")
MASTER = "pulseboard"


def start_sentinel(root, master_port: int) -> tuple[subprocess.Popen, int]:
    port = free_port()
    config = root / "sentinel.conf"  # Sentinel rewrites its own file: one per run
    config.write_text(f"port {port}\nbind 127.0.0.1\ndir {root}\n"
                      f"sentinel monitor {MASTER} 127.0.0.1 {master_port} 1\n"
                      f"sentinel down-after-milliseconds {MASTER} 5000\n")
    process = subprocess.Popen([SENTINEL, str(config)], stdout=subprocess.DEVNULL,
                               start_new_session=True)
    wait_for_port(port, 10, process)
    return process, port


@pytest.mark.slow
def test_every_redis_client_goes_through_sentinel(services, app, project, tmp_path):
    master = PrivateRedis(tmp_path / "master").start()
    sentinel, port = start_sentinel(tmp_path, master.port)
    env = {"REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",  # nothing listens there
           "REDIS_SENTINELS": f"127.0.0.1:{port}", "REDIS_SENTINEL_MASTER": MASTER}
    worker = start_worker(services, concurrency=1, **env)
    server = None
    try:
        server = start_gunicorn(services, **env)
        wait_until(lambda: _healthy(server.url), timeout=30, what="redis and worker healthy")
        request = urllib.request.Request(  # rate limit, journal and broker
            server.url + "/webhook", data=json.dumps([{"eventType": "s", "userId": "1"}] * 3)
            .encode(), headers={"Content-Type": "application/json", **INGEST_HEADERS})
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 202
        wait_until(lambda: sql_scalar(app, "SELECT count(*) FROM event") == 3, timeout=20,
                   what="the worker to store through the broker Sentinel named")

        host, http_port = server.url.removeprefix("http://").split(":")
        clients = Fleet(host, int(http_port), "/stream?filter=hour",
                        {"Authorization": f"Bearer {READ_TOKEN}"}, 1)
        clients.open(timeout=15)
        try:  # pub/sub: the worker's push reaches the web process's subscription
            clients.run_until(lambda: any('data-testid="total">3<' in (data or "")
                                          for _, _, data in clients.clients[0].events),
                              20, "a push through Sentinel's master")
        finally:
            clients.close()
        names = {c.get("name", "") for c in Redis(port=master.port).client_list()}
        assert any(name.startswith("pulseboard-live:") for name in names)

        # a report job: queued by the web, run and answered by the worker, in Celery's result
        # backend on the master
        web = create_app({"DATABASE_URL": services.database_url, **env}, test=True)
        celery = web.extensions["celery"]
        job = jobs.start(celery, project.id, "funnel", "step=s&step=s")
        assert jobs.wait(celery, job, 30)["steps"][0]["users"] == 1
        assert Redis(port=master.port).exists(f"pulseboard:celery-task-meta-{job}")
        assert Redis(port=master.port).dbsize() > 0
    finally:
        if server is not None:
            stop_process(server.process)
        stop_process(worker)
        stop_process(sentinel)
        master.stop()


def _healthy(url: str) -> bool:
    try:
        return urllib.request.urlopen(url + "/health", timeout=5).status == 200
    except OSError:
        return False
