"""A whole Pulseboard for a benchmark: private PostgreSQL and Redis, gunicorn, Celery workers."""

from __future__ import annotations

import argparse
import os
import resource
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from webapp import config as settings
from webapp.dev.servers import PrivatePostgres, PrivateRedis, free_port
from webapp.ingest.queue import JOBS_QUEUES, STORE_QUEUES

ROOT = Path(__file__).resolve().parent.parent


def size_args(description: str, runs: int, texts: dict[str, tuple[str, str]] | None = None,
              **extra: int) -> argparse.Namespace:
    """`--sizes 1000000,10000000 --runs N`, the options of the size-stepped benchmarks, any
    `extra` integer options with their defaults, and `texts` options (default, help)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--sizes", default="1000000,10000000")
    parser.add_argument("--runs", type=int, default=runs)
    for name, default in extra.items():
        parser.add_argument(f"--{name}", type=int, default=default)
    for name, (default, meaning) in (texts or {}).items():
        parser.add_argument(f"--{name}", default=default, help=meaning)
    return parser.parse_args()


def raise_open_file_limit() -> int:
    """Lift this process's soft limit on open files to the hard limit (children inherit it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


class Stack:
    def __init__(self, web_workers: int = 1, celery_workers: int = 1, concurrency: int = 2,
                 extra_env: dict | None = None):
        self.web_workers, self.celery_workers, self.concurrency = (
            web_workers, celery_workers, concurrency)
        self.extra_env = extra_env or {}
        self.ingest_key = "pb_bench_" + secrets.token_urlsafe(16)
        self.read_token = "pb_bench_read_" + secrets.token_urlsafe(16)
        self.processes: list[subprocess.Popen] = []
        self.servers: list = []
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"

    def env(self) -> dict:
        env = dict(os.environ)
        env.update(PULSEBOARD_ENV="development", PULSEBOARD_DOTENV=os.devnull,
                   SECRET_KEY=secrets.token_hex(16), WEBHOOK_API_KEY=self.ingest_key,
                   API_TOKEN=self.read_token, PORT=str(self.port), LOG_LEVEL="warning",
                   WEB_CONCURRENCY=str(self.web_workers), DATABASE_URL=self.database_url,
                   REDIS_URL=self.redis_url)
        env.update(self.extra_env)
        return env

    def start(self, root: Path) -> Stack:
        self.database_url = settings.value("DATABASE_URL") or self._serve(
            PrivatePostgres(root / "postgres", database="pulseboard_bench")).url
        self.redis_url = settings.value("REDIS_URL") or self._serve(
            PrivateRedis(root / "redis")).url
        subprocess.run([sys.executable, "-m", "flask", "--app", "webapp.wsgi", "bootstrap"],
                       cwd=ROOT, env=self.env(), check=True, stdout=subprocess.DEVNULL)
        self.processes.append(self._spawn([sys.executable, "-m", "gunicorn", "--config",
                                           "webapp/gunicorn_conf.py", "webapp.wsgi:app"]))
        for _ in range(self.celery_workers):
            self.start_celery()
        self.start_celery(JOBS_QUEUES, concurrency=1)  # reports and alerts, as the Procfile's jobs
        self.processes.append(self._spawn([sys.executable, "-m", "celery", "--app", "worker.app",
                                           "beat", "--loglevel=warning"]))  # the periodic tasks
        self._wait_healthy()
        return self

    def start_celery(self, queues=STORE_QUEUES, concurrency: int | None = None) -> subprocess.Popen:
        process = self._spawn([sys.executable, "-m", "celery", "--app", "worker.app", "worker",
                               "--queues", ",".join(queues),
                               f"--concurrency={concurrency or self.concurrency}",
                               "--loglevel=warning", "--without-gossip", "--without-mingle"])
        self.processes.append(process)
        return process

    def _serve(self, server):
        server.start()
        self.servers.append(server)
        return server

    def _spawn(self, args: list[str]) -> subprocess.Popen:
        return subprocess.Popen(args, cwd=ROOT, env=self.env(), start_new_session=True,
                                stdout=subprocess.DEVNULL)

    def _wait_healthy(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=2):
                    return
            except (urllib.error.URLError, OSError):
                time.sleep(0.2)
        raise RuntimeError("the benchmark stack did not become healthy")

    def web_pids(self) -> list[int]:
        import psutil

        return [child.pid for child in psutil.Process(self.processes[0].pid).children()]

    def process_groups(self) -> dict[str, list]:
        """The stack's processes by part (web, worker and, when private, postgres and redis),
        for CPU per event."""
        import psutil

        def tree(pid: int) -> list:
            root = psutil.Process(pid)
            return [root, *root.children(recursive=True)]

        groups = {"web": tree(self.processes[0].pid),
                  "worker": [p for process in self.processes[1:] for p in tree(process.pid)]}
        for server in self.servers:
            if isinstance(server, PrivatePostgres):
                pid = int((server.data / "postmaster.pid").read_text().split()[0])
                groups["postgres"] = tree(pid)
            elif server.process is not None:
                groups["redis"] = tree(server.process.pid)
        return groups

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        for server in reversed(self.servers):
            server.stop()


@contextmanager
def running(**options):
    # a benchmark stopped with SIGTERM still stops its servers and removes its folder
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with tempfile.TemporaryDirectory(prefix="pulseboard-bench-") as root:
        stack = Stack(**options)
        try:
            yield stack.start(Path(root))
        finally:
            stack.stop()
