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
        # Redis Sentinel: "host:port,host:port" and the master's name; REDIS_URL then gives
        # only the database number and password (webapp/redisconn.py)
        self.REDIS_SENTINELS = _env("REDIS_SENTINELS")
        self.REDIS_SENTINEL_MASTER = _env("REDIS_SENTINEL_MASTER", "mymaster")
        self.WEBHOOK_API_KEY = _env("WEBHOOK_API_KEY")
        self.API_TOKEN = _env("API_TOKEN")
        self.ADMIN_EMAIL = _env("ADMIN_EMAIL", "admin@localhost")
        self.ADMIN_PASSWORD = _env("ADMIN_PASSWORD")
        self.LOG_LEVEL = _env("LOG_LEVEL", "info").upper()
        # A streaming replica for event listings and exports; a replica further behind than
        # REPLICA_MAX_LAG_SECONDS is left aside and the primary answers (webapp/reads/replica.py)
        self.DATABASE_REPLICA_URL = _env("DATABASE_REPLICA_URL")
        self.REPLICA_MAX_LAG_SECONDS = float(_env("REPLICA_MAX_LAG_SECONDS", "5"))
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
        # Days of raw events a project keeps unless it sets its own (rollups are kept longer);
        # daily partitions are made PARTITION_DAYS_AHEAD days ahead, checked every
        # PARTITION_CHECK_SECONDS by the workers (see webapp/store/partitions.py).
        self.RETENTION_DAYS = _int("RETENTION_DAYS", 365)
        self.PARTITION_DAYS_AHEAD = _int("PARTITION_DAYS_AHEAD", 7)
        self.PARTITION_CHECK_SECONDS = _int("PARTITION_CHECK_SECONDS", 3600)


class TestConfig(Config):
    """The test suite's settings: its own database and Redis, short broker timeouts."""

    TESTING = True

    def __init__(self) -> None:
        super().__init__()
        self.ENV = "test"
        self.SECRET_KEY = "test-secret-key"
        self.DATABASE_URL = _env("TEST_DATABASE_URL")
        self.DATABASE_REPLICA_URL = None
        self.REDIS_URL = _env("TEST_REDIS_URL")
        self.BROKER_VISIBILITY_TIMEOUT = 5
        self.JOURNAL_GRACE_SECONDS = 3
        self.JOURNAL_SWEEP_SECONDS = 1
        self.LOGIN_RATE_LIMIT = "1000 per minute"  # the suite logs in many times a minute
        # the reference's example events of 2024 stay readable; retention tests pass their own
        self.RETENTION_DAYS = _int("RETENTION_DAYS", 3650)


def check(config) -> None:
    """Fail fast on settings a running install cannot do without."""
    missing = [k for k in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY") if not config.get(k)]
    if missing:
        raise RuntimeError(
            "missing settings: " + ", ".join(missing)
            + " (set them in the environment or .env; `make run` sets them for development)"
        )
