"""The Peewee database: a proxy bound by the app factory, pooled connections, migrations."""

from __future__ import annotations

from pathlib import Path

from peewee import DatabaseProxy
from playhouse.db_url import parse
from playhouse.migrations import Runner
from playhouse.pool import PooledPostgresqlDatabase

database = DatabaseProxy()

MIGRATIONS = Path(__file__).parent / "migrations"
MIGRATION_LOCK = 7_315_001  # pg_advisory_lock key: one migrator at a time


def make_database(url: str, pool_size: int = 20, pool_timeout: int = 10):
    """A pooled PostgreSQL database for a postgres:// URL; every session runs in UTC."""
    params = parse(url)
    params.setdefault("options", "-c timezone=UTC")
    return PooledPostgresqlDatabase(
        params.pop("database"),
        max_connections=pool_size,
        stale_timeout=300,
        timeout=pool_timeout,  # wait for a free connection instead of failing at once
        **params,
    )


def init_app(app) -> None:
    """Bind the proxy to the configured database and return connections after each request."""
    database.initialize(
        make_database(
            app.config["DATABASE_URL"],
            app.config["DATABASE_POOL_SIZE"],
            app.config["DATABASE_POOL_TIMEOUT"],
        )
    )

    @app.teardown_appcontext
    def _release_connection(_exc):
        if not database.is_closed():
            database.close()


def migrate() -> list[str]:
    """Apply pending numbered migrations; returns the names applied."""
    with database.connection_context():
        database.execute_sql("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
        try:
            return Runner(database, str(MIGRATIONS)).up()
        finally:
            database.execute_sql("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))
