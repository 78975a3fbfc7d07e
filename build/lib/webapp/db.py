"""The Peewee database: a proxy bound by the app factory, pooled connections, migrations."""

from __future__ import annotations

from pathlib import Path

from peewee import DatabaseProxy
from playhouse.db_url import parse
from playhouse.migrations import Runner
from playhouse.pool import PooledPostgresqlDatabase

database = DatabaseProxy()
replica = DatabaseProxy()  # DATABASE_REPLICA_URL when set, else the same server as `database`

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
    primary = make_database(app.config["DATABASE_URL"], app.config["DATABASE_POOL_SIZE"],
                            app.config["DATABASE_POOL_TIMEOUT"])
    database.initialize(primary)
    url = app.config.get("DATABASE_REPLICA_URL")
    if url:  # a replica that does not answer is soon left aside, not waited for
        url += ("&" if "?" in url else "?") + "connect_timeout=3"
    replica.initialize(make_database(url, app.config["DATABASE_POOL_SIZE"],
                                     app.config["DATABASE_POOL_TIMEOUT"]) if url else primary)

    @app.teardown_appcontext
    def _release_connection(_exc):
        for db in (database, replica):
            if not db.is_closed():
                db.close()


def migrate() -> list[str]:
    """Apply pending numbered migrations; returns the names applied."""
    with database.connection_context():
        database.execute_sql("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
        try:
            return Runner(database, str(MIGRATIONS)).up()
        finally:
            database.execute_sql("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))
