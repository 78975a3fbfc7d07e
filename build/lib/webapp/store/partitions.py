"""Daily partitions of `event`: created ahead, split out of the default partition, dropped
whole when every project's retention has passed them (never emptied row by row)."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

log = logging.getLogger(__name__)

PARENT = "event"
DEFAULT = "event_default"  # rows of days that have no partition of their own
PREFIX = "event_p"  # event_pYYYYMMDD holds [day, day + 1) in UTC
MAINTENANCE_LOCK = 7_315_002  # pg_advisory_lock key: one maintainer at a time
LOCK_TIMEOUT = "5s"  # DDL waits at most this for readers (a long export), then tries next time
DAY = timedelta(days=1)
MIN_RETENTION_DAYS = 8  # the week window (7 days plus its 3-hour alignment) stays in raw events
INDEX_HEAD = re.compile(r"^CREATE (UNIQUE )?INDEX (\S+) ON (?:ONLY )?(\S+) ")


def name_of(day: date) -> str:
    return f"{PREFIX}{day:%Y%m%d}"


def day_of(name: str) -> date | None:
    """The day a daily partition holds, from its name (None for any other table)."""
    if not (name.startswith(PREFIX) and len(name) == len(PREFIX) + 8 and name[-8:].isdigit()):
        return None
    return datetime.strptime(name[-8:], "%Y%m%d").date()


def utc_day(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


def start_of(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def expired_days(days: list[date], now: datetime, keep_days: int) -> list[date]:
    """Days whose every instant is older than `keep_days` before now: their partitions go."""
    horizon = now - timedelta(days=keep_days)
    return sorted(day for day in days if start_of(day + timedelta(days=1)) <= horizon)


def days_ahead(now: datetime, ahead: int) -> list[date]:
    """Yesterday (late arrivals), today and `ahead` days after: the partitions kept ready."""
    today = utc_day(now)
    return [today + timedelta(days=offset) for offset in range(-1, ahead + 1)]


def local_name(index: str, table: str, partition: str) -> str:
    """A partition's copy of a per-partition index: the table's prefix swapped, <= 63 bytes."""
    suffix = index[len(table):] if index.startswith(table) else "_" + index
    return (partition + suffix)[:63]


def index_for(definition: str, partition: str) -> str:
    """An index definition (pg_get_indexdef) rewritten to build the same index on `partition`."""
    match = INDEX_HEAD.match(definition)
    if match is None:
        raise ValueError(f"not an index definition: {definition}")
    unique, index, table = match.groups()
    table = table.split(".")[-1].strip('"')
    return (f"CREATE {unique or ''}INDEX {local_name(index, table, partition)} ON {partition} "
            + definition[match.end():])


@dataclass(frozen=True)
class Index:
    """An index of a table as the catalogue describes it."""

    name: str
    definition: str
    unique: bool
    columns: tuple[str, ...]
    constraint: str | None  # the constraint it backs (primary key, unique), if any


def indexes(db, table: str) -> list[Index]:
    """Every index on `table` (read from the catalogue, so indexes added by anyone count)."""
    cursor = db.execute_sql(
        "SELECT i.relname, pg_get_indexdef(x.indexrelid), x.indisunique, "
        "       array(SELECT a.attname::text FROM unnest(x.indkey::int2[]) WITH ORDINALITY "
        "             AS k(attnum, n) JOIN pg_attribute a "
        "             ON a.attrelid = x.indrelid AND a.attnum = k.attnum ORDER BY k.n), c.conname "
        "FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
        "LEFT JOIN pg_constraint c ON c.conindid = x.indexrelid AND c.conrelid = x.indrelid "
        "WHERE x.indrelid = %s::regclass ORDER BY i.relname", (table,))
    return [Index(name, definition, unique, tuple(columns), constraint)
            for name, definition, unique, columns, constraint in cursor.fetchall()]


def local_indexes(db, partition: str) -> list[str]:
    """Definitions of a partition's own indexes, those not inherited from the parent: unique
    keys without the partition key (the event-id key) live on each partition."""
    cursor = db.execute_sql(
        "SELECT pg_get_indexdef(x.indexrelid) FROM pg_index x "
        "WHERE x.indrelid = %s::regclass AND NOT EXISTS "
        "(SELECT 1 FROM pg_inherits h WHERE h.inhrelid = x.indexrelid) "
        "ORDER BY x.indexrelid", (partition,))
    return [definition for (definition,) in cursor.fetchall()]


def partitions(db) -> list[str]:
    cursor = db.execute_sql(
        "SELECT c.relname FROM pg_inherits h JOIN pg_class c ON c.oid = h.inhrelid "
        "WHERE h.inhparent = %s::regclass ORDER BY c.relname", (PARENT,))
    return [name for (name,) in cursor.fetchall()]


def sizes(db) -> list[tuple[str, int, str]]:
    """(partition, estimated rows, size with indexes) of every partition, oldest first."""
    cursor = db.execute_sql(
        "SELECT c.relname, greatest(c.reltuples, 0)::bigint, "
        "       pg_size_pretty(pg_total_relation_size(c.oid)) "
        "FROM pg_inherits h JOIN pg_class c ON c.oid = h.inhrelid "
        "WHERE h.inhparent = %s::regclass ORDER BY c.relname", (PARENT,))
    return cursor.fetchall()


def totals(db) -> tuple[int, int]:
    """(partitions of `event`, their bytes with indexes): for /metrics."""
    return db.execute_sql(
        "SELECT count(*), COALESCE(sum(pg_total_relation_size(h.inhrelid)), 0)::bigint "
        "FROM pg_inherits h WHERE h.inhparent = %s::regclass", (PARENT,)).fetchone()


def daily(db) -> list[date]:
    return sorted(day for name in partitions(db) if (day := day_of(name)) is not None)


def create(db, day: date) -> bool:
    """Give `day` its own partition, moving any of its rows out of the default partition;
    idempotent (False when it exists). Attaching locks the parent only against other DDL."""
    name = name_of(day)
    if db.execute_sql("SELECT to_regclass(%s)", (name,)).fetchone()[0] is not None:
        return False
    low, high = start_of(day), start_of(day + timedelta(days=1))
    with db.atomic():
        db.execute_sql(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
        # The locks the attach needs, taken at once and parent first (the order of every
        # other statement on the table), never upgraded: readers and writers go on meanwhile
        # except on the default partition (rows routed there would make the attach fail)
        db.execute_sql(f"LOCK TABLE ONLY {PARENT} IN SHARE UPDATE EXCLUSIVE MODE")
        db.execute_sql(f"LOCK TABLE {DEFAULT} IN ACCESS EXCLUSIVE MODE")
        db.execute_sql(f"CREATE TABLE {name} (LIKE {PARENT} INCLUDING DEFAULTS "
                       "INCLUDING CONSTRAINTS INCLUDING STORAGE)")
        db.execute_sql(
            f"WITH moved AS (DELETE FROM {DEFAULT} WHERE \"timestamp\" >= %s "
            f"AND \"timestamp\" < %s RETURNING *) INSERT INTO {name} SELECT * FROM moved",
            (low, high))
        # the bounds as a check first, so the attach need not scan the table
        db.execute_sql(f"ALTER TABLE {name} ADD CONSTRAINT {name}_bounds CHECK "
                       "(\"timestamp\" IS NOT NULL AND \"timestamp\" >= %s AND \"timestamp\" < %s)",
                       (low, high))
        for definition in local_indexes(db, DEFAULT):
            db.execute_sql(index_for(definition, name))
        db.execute_sql(f"ALTER TABLE {PARENT} ATTACH PARTITION {name} "
                       "FOR VALUES FROM (%s) TO (%s)", (low, high))
        db.execute_sql(f"ALTER TABLE {name} DROP CONSTRAINT {name}_bounds")
    return True


def stray_days(db, since: date) -> list[date]:
    """Days from `since` on that have rows in the default partition."""
    cursor = db.execute_sql(
        f"SELECT DISTINCT (\"timestamp\" AT TIME ZONE 'UTC')::date FROM {DEFAULT} "
        "WHERE \"timestamp\" >= %s ORDER BY 1", (start_of(since),))
    return [day for (day,) in cursor.fetchall()]


def longest_retention(db, default_days: int) -> int:
    """Days of raw events the install keeps: the longest any project keeps."""
    row = db.execute_sql("SELECT max(COALESCE(retention_days, %s)) FROM project",
                         (default_days,)).fetchone()
    return max(row[0] or default_days, MIN_RETENTION_DAYS)


def drop_expired(db, now: datetime, keep_days: int) -> tuple[list[str], bool]:
    """Drop every daily partition older than the longest retention, then empty the default
    partition of what is left in it (all older than that too): whole tables, never rows.
    Returns the partitions dropped and whether the default partition was emptied."""
    dropped = []
    for day in expired_days(daily(db), now, keep_days):
        with db.atomic():
            db.execute_sql(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
            db.execute_sql(f"DROP TABLE {name_of(day)}")
        dropped.append(name_of(day))
    horizon = utc_day(now - timedelta(days=keep_days))
    if not db.execute_sql(f"SELECT EXISTS (SELECT 1 FROM {DEFAULT})").fetchone()[0]:
        return dropped, False  # nothing to empty: no lock that readers would queue behind
    with db.atomic():
        db.execute_sql(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
        db.execute_sql(f"LOCK TABLE {DEFAULT} IN ACCESS EXCLUSIVE MODE")
        if stray_days(db, horizon):  # anything newer was split out just before
            return dropped, False
        db.execute_sql(f"TRUNCATE {DEFAULT}")
    return dropped, True


def maintain(db, now: datetime, default_retention: int, ahead: int) -> dict:
    """Create the partitions ahead, split kept days out of the default partition, drop
    expired partitions. Safe to run from every worker: one runs it at a time."""
    got = db.execute_sql("SELECT pg_try_advisory_lock(%s)", (MAINTENANCE_LOCK,)).fetchone()[0]
    if not got:
        return {"created": [], "dropped": [], "emptied": False, "skipped": True}
    try:
        keep = longest_retention(db, default_retention)
        horizon = utc_day(now - timedelta(days=keep))
        wanted = sorted(set(days_ahead(now, ahead)) | set(stray_days(db, horizon)))
        created = [name_of(day) for day in wanted if day >= horizon and create(db, day)]
        dropped, emptied = drop_expired(db, now, keep)
    finally:
        db.execute_sql("SELECT pg_advisory_unlock(%s)", (MAINTENANCE_LOCK,))
    if created or dropped:
        log.info("partitions: created %s, dropped %s", created, dropped)
    return {"created": created, "dropped": dropped, "emptied": emptied, "skipped": False}
