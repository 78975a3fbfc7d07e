"""Event names up to 200 characters, for names sent through the Segment and PostHog adapters.

Widening a VARCHAR changes only the catalogue: no table or index is rewritten."""

TABLES = ("event", "event_rollup_minute", "event_rollup_hour")


def up(migrator, db):
    for table in TABLES:
        db.execute_sql(f"ALTER TABLE {table} ALTER COLUMN event_type TYPE VARCHAR(200)")


def down(migrator, db):
    for table in TABLES:
        db.execute_sql(f"ALTER TABLE {table} ALTER COLUMN event_type TYPE VARCHAR(64)")
