"""Settings, read only from the environment (and `.env` in development)."""

from __future__ import annotations

import os


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _int(name: str, default: int) -> int:
    return int(_env(name, str(default)))


class Config:
    """Production and development settings; an instance reads the environment when made."""

    MAX_CONTENT_LENGTH = 1024 * 1024  # a webhook body is at most 1 MB
    MAX_BATCH_EVENTS = 1000
    RETRY_AFTER_SECONDS = 5  # advertised on 503 when the queue is unavailable
    WORKER_HEARTBEAT_TTL = 30  # seconds without a worker heartbeat before /health fails
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"

    def __init__(self) -> None:
        self.ENV = _env("PULSEBOARD_ENV", "development")
        self.SECRET_KEY = _env("SECRET_KEY")
        self.DATABASE_URL = _env("DATABASE_URL")
        self.REDIS_URL = _env("REDIS_URL")
        self.WEBHOOK_API_KEY = _env("WEBHOOK_API_KEY")
        self.API_TOKEN = _env("API_TOKEN")
        self.ADMIN_EMAIL = _env("ADMIN_EMAIL", "admin@localhost")
        self.ADMIN_PASSWORD = _env("ADMIN_PASSWORD")
        self.LOG_LEVEL = _env("LOG_LEVEL", "info").upper()
        self.DATABASE_POOL_SIZE = _int("DATABASE_POOL_SIZE", 20)
        self.DATABASE_POOL_TIMEOUT = _int("DATABASE_POOL_TIMEOUT", 10)
        # Seconds before an unacknowledged broker message is handed to another worker.
        self.BROKER_VISIBILITY_TIMEOUT = _int("BROKER_VISIBILITY_TIMEOUT", 300)
        # A journaled batch older than this whose message is gone is published again, checked
        # every JOURNAL_SWEEP_SECONDS by the workers (see webapp/ingest/journal.py).
        self.JOURNAL_GRACE_SECONDS = _int("JOURNAL_GRACE_SECONDS", 30)
        self.JOURNAL_SWEEP_SECONDS = _int("JOURNAL_SWEEP_SECONDS", 5)
        self.SESSION_COOKIE_SECURE = self.ENV == "production"
        # Requests per ingest key (flask-limiter notation, e.g. "1000 per second; 20000 per minute")
        self.WEBHOOK_RATE_LIMIT = _env("WEBHOOK_RATE_LIMIT", "1000 per second")
        self.LIVE_HEARTBEAT_SECONDS = float(_env("LIVE_HEARTBEAT_SECONDS", "15"))
        self.LOGIN_RATE_LIMIT = _env("LOGIN_RATE_LIMIT", "10 per minute")
        self.METRICS_TOKEN = _env("METRICS_TOKEN")
        self.LOG_FORMAT = _env("LOG_FORMAT", "json")
        # a report page that takes longer than this runs as a Celery task (progress over SSE)
        self.REPORT_INLINE_MS = _int("REPORT_INLINE_MS", 300)


class TestConfig(Config):
    """The test suite's settings: its own database and Redis, short broker timeouts."""

    TESTING = True

    def __init__(self) -> None:
        super().__init__()
        self.ENV = "test"
        self.SECRET_KEY = "test-secret-key"
        self.DATABASE_URL = _env("TEST_DATABASE_URL")
        self.REDIS_URL = _env("TEST_REDIS_URL")
        self.BROKER_VISIBILITY_TIMEOUT = 5
        self.JOURNAL_GRACE_SECONDS = 3
        self.JOURNAL_SWEEP_SECONDS = 1
        self.LOGIN_RATE_LIMIT = "1000 per minute"  # the suite logs in many times a minute


def check(config) -> None:
    """Fail fast on settings a running install cannot do without."""
    missing = [k for k in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY") if not config.get(k)]
    if missing:
        raise RuntimeError(
            "missing settings: " + ", ".join(missing)
            + " (set them in the environment or .env; `make run` sets them for development)"
        )
