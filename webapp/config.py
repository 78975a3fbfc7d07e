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
        self.JOURNAL_SWEEP_SECONDS = _int("JOURNAL_SWEEP_SECONDS", 1)
        # /health answers 503 once the oldest batch answered 202 has waited longer than this
        # to be stored (the age is also on /metrics)
        self.STORE_LAG_LIMIT_SECONDS = float(_env("STORE_LAG_LIMIT_SECONDS", "60"))
        self.SESSION_COOKIE_SECURE = self.ENV == "production"
        # Per ingest key (or project, for signed deliveries), in requests and in events, over
        # a sliding window whose length is the burst allowed (flask-limiter notation, e.g.
        # "1000 per second; 20000 per minute"). The defaults are over twice what a 2-core
        # install takes from one sender (docs/PERFORMANCE.md): one key may use all of a small
        # install, and a runaway sender is refused on a large one. Overrides per key and per
        # project: the management page or `flask projects limits`.
        self.WEBHOOK_RATE_LIMIT = _env("WEBHOOK_RATE_LIMIT", "200000 per 10 seconds")
        self.WEBHOOK_EVENT_LIMIT = _env("WEBHOOK_EVENT_LIMIT", "3000000 per 10 seconds")
        self.LIVE_HEARTBEAT_SECONDS = float(_env("LIVE_HEARTBEAT_SECONDS", "15"))
        self.LOGIN_RATE_LIMIT = _env("LOGIN_RATE_LIMIT", "10 per minute")
        # Requests per address that bring no valid key, token or session (wrong or missing)
        self.UNAUTHENTICATED_RATE_LIMIT = _env("UNAUTHENTICATED_RATE_LIMIT", "100 per minute")
        # How many proxies in front of the app append to X-Forwarded-For (0: none, the peer is
        # the client); the client address, and so the per-address limits, come from there.
        self.TRUSTED_PROXIES = _int("TRUSTED_PROXIES", 0)
        self.METRICS_TOKEN = _env("METRICS_TOKEN")
        # Exports of one project running at once (past it: 429), and how long a slot outlives
        # a reader that stops reading
        self.EXPORT_CONCURRENCY = _int("EXPORT_CONCURRENCY", 2)
        self.EXPORT_SLOT_SECONDS = _int("EXPORT_SLOT_SECONDS", 60)
        self.LOG_FORMAT = _env("LOG_FORMAT", "json")
        # Alerts: may rules send to loopback and private networks (off: public addresses only);
        # how often the workers check every rule (for "too few" and windows sliding past).
        self.ALERTS_ALLOW_PRIVATE_DESTINATIONS = _env(
            "ALERTS_ALLOW_PRIVATE_DESTINATIONS", "0").lower() in ("1", "true", "yes", "on")
        self.ALERTS_CHECK_SECONDS = float(_env("ALERTS_CHECK_SECONDS", "10"))
        # Days of raw events a project keeps unless it sets its own (rollups are kept longer);
        # daily partitions are made PARTITION_DAYS_AHEAD days ahead, checked every
        # PARTITION_CHECK_SECONDS by the workers (see webapp/store/partitions.py).
        self.RETENTION_DAYS = _int("RETENTION_DAYS", 365)
        self.PARTITION_DAYS_AHEAD = _int("PARTITION_DAYS_AHEAD", 7)
        self.PARTITION_CHECK_SECONDS = _int("PARTITION_CHECK_SECONDS", 3600)
        # a report page that takes longer than this runs as a Celery task (progress over SSE)
        self.REPORT_INLINE_MS = _int("REPORT_INLINE_MS", 300)
        # how long an API request for a report the workers compute waits for it (then 503)
        self.REPORT_WAIT_SECONDS = _int("REPORT_WAIT_SECONDS", 120)
        # packed days (and merges of them) each worker process keeps in memory for the next report
        self.REPORT_MEMORY_MB = _int("REPORT_MEMORY_MB", 1024)
        # a worker woken for a project lets its batches gather until the wake-up is this old
        self.INGEST_COLLECT_MS = _int("INGEST_COLLECT_MS", 100)


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
        self.ALERTS_ALLOW_PRIVATE_DESTINATIONS = True  # receivers in tests are on loopback
        self.ALERTS_CHECK_SECONDS = 1
        self.UNAUTHENTICATED_RATE_LIMIT = _env(  # and tries many wrong keys
            "UNAUTHENTICATED_RATE_LIMIT", "1000 per minute")
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
