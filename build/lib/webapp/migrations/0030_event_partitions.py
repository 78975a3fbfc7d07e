"""`event` becomes a table partitioned by day on "timestamp"; projects get `retention_days`.

Every index `event` has when this runs is carried over, read from the catalogue (indexes added
by earlier migrations or by hand count too): plain indexes go on the parent, where PostgreSQL
builds them on each partition; a unique index without the partition key (the event-id key, the
row-id key) cannot be enforced across partitions, so each partition gets its own copy, and new
partitions copy them from the default partition. Runs in one transaction: all or nothing."""

from datetime import UTC, datetime

from webapp.store import partitions

OLD = "event_unpartitioned"


def _settings() -> tuple[int, int]:
    from flask import current_app, has_app_context

    from webapp.config import Config

    config = current_app.config if has_app_context() else vars(Config())
    return config["RETENTION_DAYS"], config["PARTITION_DAYS_AHEAD"]


def _owned_sequences(db, table: str) -> list[tuple[str, str]]:
    return db.execute_sql(
        "SELECT s.relname, a.attname FROM pg_depend d "
        "JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S' "
        "JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid "
        "WHERE d.refobjid = %s::regclass AND d.deptype = 'a'", (table,)).fetchall()


def up(migrator, db):
    now = datetime.now(UTC)
    retention, ahead = _settings()
    kept = partitions.indexes(db, "event")
    foreign = db.execute_sql(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = 'event'::regclass AND contype = 'f'").fetchall()
    sequences = _owned_sequences(db, "event")

    db.execute_sql(f"ALTER TABLE event RENAME TO {OLD}")
    for index in kept:  # their names go to the new table
        if index.constraint:
            db.execute_sql(f"ALTER TABLE {OLD} DROP CONSTRAINT {index.constraint}")
        else:
            db.execute_sql(f"DROP INDEX {index.name}")
    for name, _ in foreign:
        db.execute_sql(f"ALTER TABLE {OLD} DROP CONSTRAINT {name}")
    for sequence, _ in sequences:
        db.execute_sql(f"ALTER SEQUENCE {sequence} OWNED BY NONE")

    db.execute_sql(f"CREATE TABLE event (LIKE {OLD} INCLUDING DEFAULTS INCLUDING CONSTRAINTS "
                   "INCLUDING STORAGE INCLUDING COMMENTS) PARTITION BY RANGE (\"timestamp\")")
    for name, definition in foreign:
        db.execute_sql(f"ALTER TABLE event ADD CONSTRAINT {name} {definition}")
    db.execute_sql(f"CREATE TABLE {partitions.DEFAULT} PARTITION OF event DEFAULT")
    horizon = partitions.utc_day(now) - partitions.timedelta(days=retention)
    with_rows = [day for (day,) in db.execute_sql(
        f"SELECT DISTINCT (\"timestamp\" AT TIME ZONE 'UTC')::date FROM {OLD} "
        "WHERE \"timestamp\" >= %s", (partitions.start_of(horizon),)).fetchall()]
    for day in sorted(set(with_rows) | set(partitions.days_ahead(now, ahead))):
        db.execute_sql(f"CREATE TABLE {partitions.name_of(day)} PARTITION OF event "
                       "FOR VALUES FROM (%s) TO (%s)",
                       (partitions.start_of(day), partitions.start_of(day + partitions.DAY)))
    db.execute_sql(f"INSERT INTO event SELECT * FROM {OLD}")  # older days: the default partition

    every = partitions.partitions(db)
    for index in kept:  # built after the copy: one sort per index instead of row by row
        if not index.unique or "timestamp" in index.columns:
            db.execute_sql(index.definition)
        else:
            for partition in every:
                db.execute_sql(partitions.index_for(index.definition, partition))

    db.execute_sql(f"DROP TABLE {OLD}")
    for sequence, column in sequences:
        db.execute_sql(f'ALTER SEQUENCE {sequence} OWNED BY event."{column}"')
    db.execute_sql("ALTER TABLE project ADD COLUMN retention_days INTEGER "
                   f"CHECK (retention_days >= {partitions.MIN_RETENTION_DAYS})")
