"""The Procfile run the way a platform runs it: only environment variables, `PORT` given, the
release line first on an empty database, then web and both kinds of worker."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import psutil
import pytest
from redis import Redis

from tests.conftest import ROOT, stop_process
from tests.helpers import wait_until
from webapp.dev.servers import free_port

KEY, TOKEN = "pb_paas_ingest_key_0123456789", "pb_paas_read_token_0123456789"


def platform_env(database_url: str, redis_url: str, port: int) -> dict[str, str]:
    """What a platform sets: its add-ons' URLs, the app's config vars, PORT, a PATH."""
    return {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "HOME": os.environ.get("HOME", "/tmp"),
        "DATABASE_URL": database_url, "REDIS_URL": redis_url, "PORT": str(port),
        "SECRET_KEY": "paas-secret", "WEBHOOK_API_KEY": KEY, "API_TOKEN": TOKEN,
        "WEB_CONCURRENCY": "1", "WORKER_CONCURRENCY": "1", "JOBS_CONCURRENCY": "1",
        "LOG_LEVEL": "warning",
        # a developer's own .env in the checkout is no part of a deploy
        "PULSEBOARD_DOTENV": os.devnull,
    }


def honcho(*args: str, env: dict, **kwargs):
    return [sys.executable, "-m", "honcho", "-f", str(ROOT / "Procfile"), *args], dict(
        cwd=ROOT, env=env, **kwargs)


def get(url: str, headers: dict | None = None) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}),
                                    timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())
    except OSError:
        return 0, {}


def listens_on_all_interfaces(port: int) -> bool:
    return any(conn.status == psutil.CONN_LISTEN and conn.laddr.port == port
               and conn.laddr.ip in ("0.0.0.0", "::") for conn in psutil.net_connections("tcp"))


@pytest.mark.slow
def test_procfile_deploys_from_an_empty_database(services, fresh_database):
    port = free_port()
    redis_url = services.redis_url.rsplit("/", 1)[0] + "/7"  # the suite's worker uses db 0
    Redis.from_url(redis_url).flushdb()
    env = platform_env(fresh_database.url, redis_url, port)

    command, options = honcho("start", "release", env=env, capture_output=True, text=True,
                              timeout=120)
    release = subprocess.run(command, **options)
    assert release.returncode == 0, release.stdout + release.stderr
    assert "project 'default' is ready" in release.stdout

    command, options = honcho("start", "web", "worker", "jobs", "beat", env=env,
                                start_new_session=True)
    dynos = subprocess.Popen(command, **options)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: get(base + "/health")[0] == 200, timeout=60,
                   what="web and worker healthy")
        assert listens_on_all_interfaces(port)
        request = urllib.request.Request(
            base + "/webhook", data=b'{"eventType": "deploy", "userId": "1"}',
            headers={"Content-Type": "application/json", "X-API-Key": KEY})
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.status == 202
        read = {"Authorization": f"Bearer {TOKEN}"}
        wait_until(lambda: get(base + "/events", read)[1].get("data", {}).get("count") == 1,
                   timeout=20, what="the event stored by the worker")
    finally:
        stop_process(dynos, signal.SIGTERM)
        Redis.from_url(redis_url).flushdb()
