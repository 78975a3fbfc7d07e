"""Settings, read only from the environment (and `.env` in development), each declared once.

`SETTINGS` lists every environment variable Pulseboard or its tooling reads: its name, type,
default and meaning. `Config` (and `TestConfig` for the suite) turns the application's share of
them into `app.config`; code outside the app (gunicorn's settings, `make run`, the benchmarks)
reads them with `value()`. `python webapp/config.py --write` (`make docs`) regenerates
docs/configuration.md and .env.example from the list; a test fails when either is stale. It
imports nothing outside the standard library, so gunicorn's master can load it without
importing the `webapp` package (see webapp/gunicorn_conf.py).
"""

from __future__ import annotations

import argparse
import os
import sys
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MARKDOWN = ROOT / "docs" / "configuration.md"
ENV_EXAMPLE = ROOT / ".env.example"
_MISSING = object()


@dataclass(frozen=True)
class Setting:
    """One environment variable: its name, type, default and meaning."""

    name: str
    type: type
    default: object
    meaning: str
    group: str = "app"  # who reads it: a key of GROUPS
    key: str | None = None  # its name in app.config, when that is not `name`
    development: str | None = None  # what `make run` does when it is unset, if not the default
    example: str | None = None  # a value to show in .env.example when there is no default

    def parse(self, text: str):
        if self.type is bool:
            return text.strip().lower() in ("1", "true", "yes", "on")
        return self.type(text)


GROUPS = {
    "app": ("The application",
            "Read by every web, worker and command process when the app is made (`Config`), "
            "and found in `app.config` under the same name."),
    "processes": ("Processes",
                  "Read by gunicorn's settings (`webapp/gunicorn_conf.py`) and by the "
                  "`Procfile`'s commands."),
    "compose": ("docker compose",
                "Read by `docker-compose.yml` (from the environment or `.env` beside it): "
                "nginx's ports and certificate, Grafana."),
    "development": ("Development, benchmarks and tests",
                    "Read by `make run`, `make demo`, the benchmarks and the test suite; not "
                    "by a production install."),
}

SETTINGS: tuple[Setting, ...] = (
    # -- the application ---------------------------------------------------------------------
    Setting("PULSEBOARD_ENV", str, "development",
            "`development`, `test` or `production`. Production marks the session cookie "
            "`Secure`, sends HSTS and keeps `/metrics` closed until `METRICS_TOKEN` is set. "
            "gunicorn binds every interface unless this is set to `development` or `test` "
            "(as `make run` and the suite do): then loopback only.",
            key="ENV"),
    Setting("SECRET_KEY", str, None,
            "Signs sessions and CSRF tokens. Required: the app refuses to start without it.",
            development="generated into `var/secrets.json`", example="change-me"),
    Setting("DATABASE_URL", str, None,
            "PostgreSQL, `postgresql://user:pass@host:port/db`. Required.",
            development="a private server in `var/postgres`",
            example="postgresql://user:password@127.0.0.1:5432/pulseboard"),
    Setting("DATABASE_POOL_SIZE", int, 20, "Database connections per process."),
    Setting("DATABASE_POOL_TIMEOUT", int, 10,
            "Seconds a request waits for a free connection of the pool before it fails."),
    Setting("DATABASE_REPLICA_URL", str, None,
            "A streaming replica (a hot standby made with `pg_basebackup -R`) that event "
            "listings (`GET /events`) and exports read from; statistics and pushes stay on the "
            "primary (docs/operations.md)."),
    Setting("REPLICA_MAX_LAG_SECONDS", float, 5.0,
            "How far behind the replica may be (seconds since the last transaction it "
            "replayed) before it is left aside and the primary answers, checked at most once "
            "a second per web process."),
    Setting("REDIS_URL", str, None,
            "Redis: the Celery broker, journal, cache, pub/sub and rate limits. Required. With "
            "`REDIS_SENTINELS` it gives only the database number and password.",
            development="a private server in `var/redis`", example="redis://127.0.0.1:6379/0"),
    Setting("REDIS_SENTINELS", str, None,
            "Redis Sentinel, `host:port,host:port`: every client asks it for the current master "
            "and follows a failover (`webapp/redisconn.py`)."),
    Setting("REDIS_SENTINEL_MASTER", str, "mymaster", "The master's name in Sentinel."),
    Setting("WEBHOOK_API_KEY", str, None,
            "Ingest key of the default project; setting a new one replaces the old one at the "
            "next start.", development="generated and printed"),
    Setting("API_TOKEN", str, None,
            "Read token of the default project; setting a new one replaces the old one at the "
            "next start.", development="generated and printed"),
    Setting("ADMIN_EMAIL", str, "admin@localhost", "Email of the first dashboard user."),
    Setting("ADMIN_PASSWORD", str, None,
            "Password of the first dashboard user, made by `flask bootstrap` when set.",
            development="generated and printed"),
    Setting("LOG_LEVEL", str, "info",
            "`debug`, `info`, `warning` or `error`, for the app, gunicorn and Celery."),
    Setting("LOG_FORMAT", str, "json",
            "`json` (one object per line, with the request ids) or `text`."),
    Setting("TRUSTED_PROXIES", int, 0,
            "How many reverse proxies in front append to `X-Forwarded-For` (werkzeug's "
            "ProxyFix; 1 for one nginx); the client address, and so every per-address limit, "
            "is taken from there, and `X-Forwarded-Proto` is trusted as far. Leave `0` when "
            "clients connect directly, or they could forge their address."),
    Setting("METRICS_TOKEN", str, None,
            "Bearer token `/metrics` requires when set (compared in constant time); in "
            "production `/metrics` answers `403` until one is set."),
    Setting("WEBHOOK_RATE_LIMIT", str, "200000 per 10 seconds",
            "Requests per ingest key (a signed delivery: per project) over a sliding window "
            "whose length is the burst allowed, in flask-limiter notation (`1000 per second; "
            "20000 per minute`). Over twice what a 2-core install takes from one sender "
            "(docs/PERFORMANCE.md); keys and projects may have their own "
            "(docs/ingest-protocols.md, Rate limits)."),
    Setting("WEBHOOK_EVENT_LIMIT", str, "3000000 per 10 seconds",
            "Events per ingest key (or project) over a sliding window, as "
            "`WEBHOOK_RATE_LIMIT`."),
    Setting("LOGIN_RATE_LIMIT", str, "10 per minute",
            "Login attempts per address and per account."),
    Setting("UNAUTHENTICATED_RATE_LIMIT", str, "100 per minute",
            "Requests per address refused for a wrong or missing key, token or session before "
            "further ones get `429` without any database lookup."),
    Setting("INGEST_GROUP_MS", float, 10.0,
            "The longest a group of webhook requests of one sender waits for the write of the "
            "group ahead of it (the group commit, under gevent)."),
    Setting("INGEST_COLLECT_MS", int, 100,
            "How long a worker woken for a project lets its next batches gather before storing "
            "them all in one transaction (`0`: at once)."),
    Setting("BROKER_VISIBILITY_TIMEOUT", int, 300,
            "Seconds before a message a dead worker held is delivered again."),
    Setting("JOURNAL_GRACE_SECONDS", int, 30,
            "Age at which a journaled batch that no queued or taken message can reach is "
            "published again (`webapp/ingest/journal.py`)."),
    Setting("JOURNAL_SWEEP_SECONDS", int, 1,
            "How often each `worker` process sweeps the journal for batches no message can "
            "reach (a thread of the worker, not a beat task: `worker/sweeper.py`)."),
    Setting("STORE_LAG_LIMIT_SECONDS", float, 60.0,
            "`/health` answers `503` once the oldest batch answered `202` has waited longer "
            "than this to be stored (the age is also on `/metrics`)."),
    Setting("LIVE_HEARTBEAT_SECONDS", float, 15.0,
            "Heartbeat comment on idle live streams; it also releases a closed tab within one "
            "heartbeat."),
    Setting("EXPORT_CONCURRENCY", int, 2,
            "Exports of one project running at once, counted across web processes (past it: "
            "`429`)."),
    Setting("EXPORT_SLOT_SECONDS", int, 60,
            "How long an export's slot outlives a reader that stops reading."),
    Setting("REPORT_INLINE_MS", int, 300,
            "A report slower than this (a statement timeout, or more packed events than that "
            "reads) runs as a Celery task on the `reports` queue, its progress over SSE."),
    Setting("REPORT_WAIT_SECONDS", int, 120,
            "How long an API request waits for a report a worker computes (then `503` with "
            "`Retry-After`)."),
    Setting("REPORT_MEMORY_MB", int, 1024,
            "Packed days of events (and merges of them) each worker process keeps in memory "
            "between reports: about 18 bytes an event a day, twice that for a range read "
            "often; 22 more per breakdown property."),
    Setting("ALERTS_ALLOW_PRIVATE_DESTINATIONS", bool, False,
            "Let alert rules send to loopback and private networks (`1`); off, public "
            "addresses only."),
    Setting("ALERTS_CHECK_SECONDS", float, 10.0,
            "How often `beat` sends the check of every alert rule to a `jobs` worker (how "
            "\"too few\" rules fire when nothing arrives, and windows slide past a burst; "
            "at least 0.2). Read by `beat`."),
    Setting("ALERTS_TREND_CHECK_SECONDS", float, 60.0,
            "How often `beat` sends the check of the rules on saved trends (a task per project "
            "to the `jobs` workers, expiring when the next is due; at least 1)."),
    Setting("ALERTS_TREND_TIME_LIMIT_SECONDS", float, 10.0,
            "How long computing a saved trend for its alert rules may take; past it they are "
            "not judged that time (counted and logged)."),
    Setting("RETENTION_DAYS", int, 365,
            "Days of raw events a project keeps unless it sets its own `retention_days` (at "
            "least 8); rollups are kept longer."),
    Setting("PARTITION_DAYS_AHEAD", int, 7,
            "Daily partitions of `event` made ahead (`webapp/store/partitions.py`)."),
    Setting("PARTITION_CHECK_SECONDS", int, 3600,
            "How often `beat` sends the partition upkeep to a `jobs` worker (each `jobs` "
            "worker also sends one when it starts). Read by `beat`."),
    # -- processes ---------------------------------------------------------------------------
    Setting("PORT", int, 8000, "The port gunicorn listens on.", group="processes"),
    Setting("WEB_CONCURRENCY", int, 2, "gunicorn worker processes.", group="processes"),
    Setting("WEB_WORKER_CLASS", str, None,
            "gunicorn worker class: `gevent_pywsgi` or `gevent`; unset, pywsgi with a small "
            "answer's headers and body in one send (`webapp/gunicorn_conf.py`).",
            group="processes"),
    Setting("WORKER_CONNECTIONS", int, 12000,
            "Connections one gunicorn worker process holds at once (open live streams count).",
            group="processes"),
    Setting("ACCESS_LOG", bool, False,
            "`1` writes gunicorn's access log (method, path and query, status) to stdout.",
            group="processes"),
    Setting("PROMETHEUS_MULTIPROC_DIR", str, None,
            "Where gunicorn's processes keep their metrics for `/metrics` (prometheus-client's "
            "multiprocess mode), emptied when gunicorn starts; unset, a new temporary folder "
            "each start.",
            group="processes", development="`var/prometheus`"),
    Setting("WORKER_CONCURRENCY", int, 2,
            "Pool processes of each `worker` (stores events, pushes panels).",
            group="processes"),
    Setting("JOBS_CONCURRENCY", int, 2,
            "Pool processes of each `jobs` worker (reports, alerts, partition upkeep).",
            group="processes"),
    # -- docker compose ----------------------------------------------------------------------
    Setting("HTTPS_PORT", int, 443, "The host port nginx serves HTTPS on.", group="compose"),
    Setting("HTTP_PORT", int, 80,
            "The host port nginx answers on plain HTTP, only with redirects to HTTPS and ACME "
            "challenges.", group="compose"),
    Setting("TLS_DIR", str, "./var/tls",
            "Folder of the certificate nginx serves: `fullchain.pem` (the certificate, then its "
            "intermediates) and `privkey.pem`.", group="compose"),
    Setting("ACME_DIR", str, "./var/acme",
            "Folder certbot `--webroot` writes its challenges to, served on plain HTTP.",
            group="compose"),
    Setting("GRAFANA_ADMIN_PASSWORD", str, None,
            "Password of Grafana's `admin` (required by compose).", group="compose"),
    # -- development, benchmarks and tests ---------------------------------------------------
    Setting("PULSEBOARD_DOTENV", str, ".env",
            "The file of settings the app loads first (values already in the environment win); "
            "the benchmarks point it at `/dev/null`.", group="development"),
    Setting("PULSEBOARD_VAR", str, "var",
            "Where `make run` keeps its private servers and `secrets.json` (and where "
            "`make demo` finds the ingest key).", group="development"),
    Setting("TEST_DATABASE_URL", str, None,
            "A PostgreSQL database for the suite instead of a private server (the suite drops "
            "and recreates its `public` schema).", group="development"),
    Setting("TEST_REDIS_URL", str, None,
            "A Redis for the suite instead of a private server (the suite flushes it).",
            group="development"),
    Setting("HYPOTHESIS_RANDOM", bool, False,
            "`1` lets the property tests draw new cases each run (by default they draw the same "
            "ones, so a failure is reproducible).", group="development"),
    Setting("FUZZ_RANDOM", bool, False,
            "`1` lets the API fuzzing (schemathesis) draw new requests each run.",
            group="development"),
    Setting("CHROMIUM_PATH", str, None,
            "The Chromium the browser tests drive (unset: `chromium` on the `PATH`, else "
            "`/usr/bin/chromium`).", group="development"),
)

BY_NAME = {setting.name: setting for setting in SETTINGS}


def value(name: str, environ: Mapping[str, str] | None = None, default=_MISSING):
    """A setting's typed value from the environment; unset or empty gives its default."""
    setting = BY_NAME[name]
    text = (os.environ if environ is None else environ).get(name)
    if text in (None, ""):
        return setting.default if default is _MISSING else default
    return setting.parse(text)


class Config:
    """Production and development settings; an instance reads the environment when made."""

    MAX_CONTENT_LENGTH = 1024 * 1024  # a webhook body is at most 1 MB
    RETRY_AFTER_SECONDS = 5  # advertised on 503 when the queue is unavailable
    WORKER_HEARTBEAT_TTL = 30  # seconds without a worker heartbeat before /health fails
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        for setting in SETTINGS:
            if setting.group == "app":
                setattr(self, setting.key or setting.name, value(setting.name, environ))
        self.LOG_LEVEL = self.LOG_LEVEL.upper()
        self.SESSION_COOKIE_SECURE = self.ENV == "production"


class TestConfig(Config):
    """The test suite's settings: its own database and Redis, short broker timeouts."""

    TESTING = True

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        super().__init__(environ)
        self.ENV = "test"
        self.SECRET_KEY = "test-secret-key"
        self.DATABASE_URL = value("TEST_DATABASE_URL", environ)
        self.DATABASE_REPLICA_URL = None
        self.REDIS_URL = value("TEST_REDIS_URL", environ)
        self.BROKER_VISIBILITY_TIMEOUT = 5
        self.JOURNAL_GRACE_SECONDS = 3
        self.JOURNAL_SWEEP_SECONDS = 1
        self.LOGIN_RATE_LIMIT = "1000 per minute"  # the suite logs in many times a minute
        self.ALERTS_ALLOW_PRIVATE_DESTINATIONS = True  # receivers in tests are on loopback
        self.ALERTS_CHECK_SECONDS = 1
        self.ALERTS_TREND_CHECK_SECONDS = 1
        self.UNAUTHENTICATED_RATE_LIMIT = value(  # and tries many wrong keys
            "UNAUTHENTICATED_RATE_LIMIT", environ, "1000 per minute")
        # the reference's example events of 2024 stay readable; retention tests pass their own
        self.RETENTION_DAYS = value("RETENTION_DAYS", environ, 3650)


def check(config) -> None:
    """Fail fast on settings a running install cannot do without."""
    missing = [k for k in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY") if not config.get(k)]
    if missing:
        raise RuntimeError(
            "missing settings: " + ", ".join(missing)
            + " (set them in the environment or .env; `make run` sets them for development)"
        )


# -- the generated files -----------------------------------------------------------------------

GENERATED = "Generated by `make docs` (`python webapp/config.py --write`) from `SETTINGS` in " \
            "webapp/config.py: edit there, not here."


def _shown(setting: Setting) -> str:
    if setting.default is None:
        return "unset"
    if setting.type is bool:
        return "`1`" if setting.default else "`0`"
    if setting.type is float and float(setting.default).is_integer():
        return f"`{int(setting.default)}`"
    return f"`{setting.default}`"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def markdown() -> str:
    """docs/configuration.md: every setting, by who reads it."""
    out = [
        "# Configuration", "",
        f"<!-- {GENERATED} -->", "",
        "Pulseboard reads its settings from the environment only; the app also loads `.env` "
        "from the folder it starts in (values already in the environment win). "
        "`.env.example` lists the same variables, generated from the same "
        "list, ready to copy. Each variable is declared once, typed, with its default and its "
        "meaning, in `SETTINGS` (`webapp/config.py`): the app reads its share as "
        "`app.config[...]` (`Config`, and `TestConfig` for the suite); gunicorn's settings, "
        "`make run` and the benchmarks read theirs with `webapp.config.value()`. A test "
        "fails when a variable read anywhere is missing from the list, or when this page or "
        "`.env.example` is stale: after changing the list, run `make docs`.", "",
        "`DATABASE_URL`, `REDIS_URL` and `SECRET_KEY` are required: the app refuses to start "
        "without them. `make run` starts private PostgreSQL and Redis servers and generates "
        "the secrets when they are unset (kept in `var/secrets.json`, printed at start). "
        "docker compose passes the app the variables its `x-app` block lists: add there any "
        "other you set.",
    ]
    for group, (title, intro) in GROUPS.items():
        out += ["", f"## {title}", "", intro, "",
                "| variable | type | default | meaning |", "|---|---|---|---|"]
        for s in (s for s in SETTINGS if s.group == group):
            default = _shown(s)
            if s.development:
                default += f"; `make run`: {s.development}"
            out.append(f"| `{s.name}` | {s.type.__name__} | {_cell(default)} | "
                       f"{_cell(s.meaning)} |")
    return "\n".join(out) + "\n"


def env_example() -> str:
    """.env.example: every setting a `.env` can hold, commented out at its default."""
    out = [f"# {line}" for line in textwrap.wrap(GENERATED, 94)]
    out += ["# Copy to .env and adjust; docs/configuration.md explains each variable.",
            "# `make run` generates the secrets that are unset and keeps them in "
            "var/secrets.json."]
    for group, (title, _intro) in GROUPS.items():
        if group == "development":  # read before any `.env` is loaded
            continue
        out += ["", f"# --- {title} ---"]
        for s in (s for s in SETTINGS if s.group == group):
            out += ["", *(f"# {line}" for line in textwrap.wrap(s.meaning.replace("`", ""), 94))]
            shown = s.example or ("" if s.default is None else _shown(s).strip("`"))
            out.append(f"# {s.name}={shown}")
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python webapp/config.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--markdown", action="store_true", help="print docs/configuration.md")
    what.add_argument("--env-example", action="store_true", help="print .env.example")
    what.add_argument("--write", action="store_true", help="write both files")
    args = parser.parse_args(argv)
    if args.write:
        MARKDOWN.write_text(markdown(), encoding="utf-8")
        ENV_EXAMPLE.write_text(env_example(), encoding="utf-8")
        print(f"wrote {MARKDOWN.relative_to(ROOT)} and {ENV_EXAMPLE.relative_to(ROOT)}")
    else:
        sys.stdout.write(markdown() if args.markdown else env_example())
    return 0


if __name__ == "__main__":
    sys.exit(main())
