"""Fixtures: real PostgreSQL, Redis, Celery worker and gunicorn, chained app -> db -> client."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import psycopg2
import pytest
from hypothesis import settings
from peewee import OperationalError
from redis import Redis

from webapp import config, create_app
from webapp.db import make_database
from webapp.dev.servers import PrivatePostgres, PrivateRedis, free_port
from webapp.ingest import journal
from webapp.ingest.queue import HEARTBEAT_KEY, JOBS_HEARTBEAT_KEY, JOBS_QUEUES, STORE_QUEUES

from .helpers import ADMIN_EMAIL, ADMIN_PASSWORD, INGEST_KEY, READ_TOKEN, drain, login, wait_until

ROOT = Path(__file__).resolve().parent.parent

# Property tests draw the same examples every run, so that a red build is reproducible and names
# a real change; HYPOTHESIS_RANDOM=1 draws new ones, for a longer hunt by hand (a failure found
# that way goes in as an @example).
settings.register_profile("repeatable", derandomize=True)
settings.register_profile("random", derandomize=False)
settings.load_profile("random" if config.value("HYPOTHESIS_RANDOM") else "repeatable")
TABLES = ("annotation", "share_link", "saved_report", "alert_notice", "alert_rule",
          "invalid_rollup_minute", "event_rollup_minute", "event_rollup_hour", "event",
          "signing_secret", "api_key", "membership", "app_user", "project", "organization")


@dataclass
class Services:
    database_url: str
    redis_url: str
    postgres: PrivatePostgres | None = None
    redis: PrivateRedis | None = None

    def env(self, **extra: str) -> dict[str, str]:
        """Environment for a process of ours (worker, gunicorn) that uses these services."""
        env = dict(os.environ)
        for name in ("WEBHOOK_API_KEY", "API_TOKEN", "SECRET_KEY"):
            env.pop(name, None)
        env.update(
            DATABASE_URL=self.database_url,
            REDIS_URL=self.redis_url,
            PULSEBOARD_ENV="test",
            PULSEBOARD_DOTENV=os.devnull,
            SECRET_KEY="test-secret-key",
            BROKER_VISIBILITY_TIMEOUT="5",
            JOURNAL_GRACE_SECONDS="3",
            JOURNAL_SWEEP_SECONDS="1",
            LOG_LEVEL="warning",
            LIVE_HEARTBEAT_SECONDS="2",
            LOGIN_RATE_LIMIT="1000 per minute",
            ALERTS_ALLOW_PRIVATE_DESTINATIONS="1",
            ALERTS_CHECK_SECONDS="1",
            ALERTS_TREND_CHECK_SECONDS="1",
            UNAUTHENTICATED_RATE_LIMIT="1000 per minute",
            RETENTION_DAYS="3650",  # as TestConfig: the workers' upkeep drops nothing tests wrote
        )
        env.update(extra)
        return env


@pytest.fixture(scope="session")
def services(tmp_path_factory):
    """TEST_DATABASE_URL / TEST_REDIS_URL when set, else private servers for this run."""
    database_url = config.value("TEST_DATABASE_URL")
    redis_url = config.value("TEST_REDIS_URL")
    root = tmp_path_factory.mktemp("services")
    postgres = redis = None
    if not database_url:
        postgres = PrivatePostgres(root / "postgres", database="pulseboard_test").start()
        database_url = postgres.url
    if not redis_url:
        redis = PrivateRedis(root / "redis").start()
        redis_url = redis.url
    yield Services(database_url, redis_url, postgres, redis)
    if redis:
        redis.stop()
    if postgres:
        postgres.stop("immediate")


@pytest.fixture(scope="session")
def replica_url(services, app, tmp_path_factory):
    """A hot standby of the suite's private PostgreSQL (pg_basebackup, then streaming)."""
    if services.postgres is None:
        pytest.skip("the replica is copied from the suite's private server; "
                    "TEST_DATABASE_URL names a server of your own")
    standby = services.postgres.replica(tmp_path_factory.mktemp("replica"))
    yield standby.url
    standby.stop("immediate")


@pytest.fixture
def fresh_database(services):
    """An empty database of its own on the suite's server (a Peewee database with its URL as
    `.url`), dropped afterwards."""
    name = f"convert_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(services.database_url)
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{name}"')
    url = services.database_url.rsplit("/", 1)[0] + "/" + name
    database = make_database(url, pool_size=2)
    database.url = url
    yield database
    database.close_all()
    admin.cursor().execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    admin.close()


@pytest.fixture(scope="session")
def app(services):
    app = create_app({"DATABASE_URL": services.database_url, "REDIS_URL": services.redis_url},
                     test=True)
    from webapp import db

    with app.app_context():
        db.database.execute_sql("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;")
        db.migrate()
    return app


@pytest.fixture(scope="session")
def redis(app) -> Redis:
    return app.extensions["redis"]


@pytest.fixture
def clean(app, redis):
    """Empty tables and our Redis keys before each test (the broker's own keys stay)."""
    reset(app, redis)
    yield


def reset(app, redis: Redis) -> None:
    """Empty tables and our Redis keys (the broker's own keys stay)."""
    from webapp import db
    from webapp.tenancy import credentials

    with app.app_context():
        for attempt in range(5):  # a worker may still be finishing the last test's tasks
            try:
                db.database.execute_sql(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE")
                break
            except OperationalError:
                if attempt == 4:
                    raise
                time.sleep(0.2)
    beats = {HEARTBEAT_KEY.encode(), JOBS_HEARTBEAT_KEY.encode()}
    keys = [k for k in redis.scan_iter("pulseboard:*") if k not in beats]
    keys += redis.scan_iter("LIMITS:*")  # the rate limiter's counters (`limits` names them so)
    if keys:
        redis.delete(*keys)
    credentials.forget_keys()


@pytest.fixture
def project(app, clean):
    from webapp.tenancy.tenants import ensure_default_project

    with app.app_context():
        return ensure_default_project(INGEST_KEY, READ_TOKEN)


@pytest.fixture
def admin(app, project):
    from webapp.tenancy.accounts import ensure_admin

    with app.app_context():
        return ensure_admin(ADMIN_EMAIL, ADMIN_PASSWORD)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def logged_in(client, admin):
    """A test client with a dashboard session of the admin."""
    login(client, ADMIN_EMAIL, ADMIN_PASSWORD)
    return client


ALL_QUEUES = STORE_QUEUES + JOBS_QUEUES


def start_worker(services: Services, concurrency: int = 2, queues=ALL_QUEUES,
                 beat: bool = False, **env) -> subprocess.Popen:
    """A Celery worker process; by default one that does the work of both kinds (the
    Procfile's `worker` and `jobs`), `queues` makes it one of them; `beat` runs the Procfile's
    `beat` inside it (`worker -B`)."""
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "--app", "worker.app", "worker",
         "--queues", ",".join(queues), "--loglevel=warning",
         f"--concurrency={concurrency}", "--without-gossip", "--without-mingle",
         "--without-heartbeat", *(["--beat"] if beat else [])],
        cwd=ROOT, env=services.env(**env), start_new_session=True,
    )


def stop_process(process: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 20):
    if process.poll() is None:
        os.killpg(process.pid, sig)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def worker_alive(redis: Redis, since: float, key: str = HEARTBEAT_KEY) -> bool:
    beat = redis.get(key)
    return beat is not None and float(beat) >= since


class WorkerHandle:
    """The session's Celery workers, as the Procfile runs them: `store` consumes the queues
    of storing events and pushes, `jobs` those of reports and alerts, with beat inside it. A
    test may stop them; the next test restarts them."""

    KINDS = {"store": (STORE_QUEUES, HEARTBEAT_KEY), "jobs": (JOBS_QUEUES, JOBS_HEARTBEAT_KEY)}

    def __init__(self, services: Services, redis: Redis):
        self.services, self.redis = services, redis
        self.processes: dict[str, subprocess.Popen | None] = dict.fromkeys(self.KINDS)

    @property
    def store(self) -> subprocess.Popen | None:
        return self.processes["store"]

    @property
    def jobs(self) -> subprocess.Popen | None:
        return self.processes["jobs"]

    def ensure_running(self) -> WorkerHandle:
        since, started = time.time(), []
        for kind, (queues, key) in self.KINDS.items():
            process = self.processes[kind]
            if process is None or process.poll() is not None:
                self.processes[kind] = start_worker(self.services, queues=queues,
                                                     beat=kind == "jobs")
                started.append(key)
        for key in started:
            wait_until(lambda k=key: worker_alive(self.redis, since, k), timeout=30,
                       what=f"{key} heartbeat")
        return self

    def stop(self, sig: int = signal.SIGTERM, kinds=("store", "jobs")) -> None:
        """SIGTERM: a warm shutdown, as an operator stops a worker (its running tasks finish
        first, so the next test finds no message of this one put back in the queue); any
        other signal goes to every process of the worker at once."""
        running = [process for process in (self.processes[kind] for kind in kinds)
                   if process is not None and process.poll() is None]
        if sig != signal.SIGTERM:
            for process in running:
                stop_process(process, sig)
            return
        for process in running:
            process.send_signal(sig)
        deadline = time.monotonic() + 30
        for process in running:
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            stop_process(process, signal.SIGKILL)  # whatever is left of it
            try:
                os.killpg(process.pid, signal.SIGKILL)  # pool processes it left behind
            except ProcessLookupError:
                pass


@pytest.fixture(scope="session")
def _worker_handle(services, redis):
    handle = WorkerHandle(services, redis)
    yield handle
    try:
        assert_at_rest(handle, redis)
    finally:
        handle.stop()


def redeliveries(redis: Redis) -> int:
    return int(redis.hget("pulseboard:metrics", "redelivered") or 0)


def assert_at_rest(handle: WorkerHandle, redis: Redis) -> None:
    """After the whole suite: every acknowledged batch was committed (or kept as a dead
    letter), the broker is empty, and no task keeps being delivered again."""
    handle.ensure_running()
    drain(redis, timeout=60)
    before = redeliveries(redis)
    # an unacknowledged message comes back once the visibility timeout has passed
    time.sleep(int(handle.services.env()["BROKER_VISIBILITY_TIMEOUT"]) + 1)
    drain(redis, timeout=10)
    assert redeliveries(redis) == before, "task messages were still being delivered again"
    assert journal.pending(redis) == 0, "batches acknowledged with 2xx were never committed"


@pytest.fixture
def worker(_worker_handle) -> WorkerHandle:
    """Real Celery worker processes (one that stores, one that runs jobs), running when the
    test starts."""
    return _worker_handle.ensure_running()


@dataclass
class LiveServer:
    url: str
    process: subprocess.Popen


def start_gunicorn(services: Services, workers: int = 1, **env) -> LiveServer:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--config", "webapp/gunicorn_conf.py",
         "--workers", str(workers), "webapp.wsgi:app"],
        cwd=ROOT, env=services.env(PORT=str(port), **env), start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        import urllib.request

        try:
            urllib.request.urlopen(url + "/health", timeout=1)
        except OSError as exc:
            return getattr(exc, "code", None) == 503  # serving, even if a check fails
        return True

    wait_until(up, timeout=30, what="gunicorn")
    return LiveServer(url, process)


NGINX_CONF = """
worker_processes 1;
daemon off;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 256; }}
http {{
  access_log off;
  client_body_temp_path {root}/body;
  proxy_temp_path {root}/proxy;
  fastcgi_temp_path {root}/fastcgi;
  uwsgi_temp_path {root}/uwsgi;
  scgi_temp_path {root}/scgi;
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://{upstream};
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_buffering off;
    }}
  }}
}}
"""


def start_nginx(root: Path, upstream_url: str) -> LiveServer:
    """Debian's nginx as a reverse proxy in front of `upstream_url`, as a deployment has one."""
    port = free_port()
    root.mkdir(parents=True, exist_ok=True)
    conf = root / "nginx.conf"
    conf.write_text(NGINX_CONF.format(root=root, port=port,
                                      upstream=upstream_url.removeprefix("http://")))
    process = subprocess.Popen(["nginx", "-p", str(root), "-c", str(conf)],
                               start_new_session=True)
    from webapp.dev.servers import wait_for_port

    wait_for_port(port, 10, process)
    return LiveServer(f"http://127.0.0.1:{port}", process)


@pytest.fixture(scope="session")
def live_server(services, app, _worker_handle):
    """gunicorn with gevent workers, as the Procfile runs it."""
    _worker_handle.ensure_running()
    server = start_gunicorn(services)
    yield server
    stop_process(server.process)
