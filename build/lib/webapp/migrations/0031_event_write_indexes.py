"""Fewer indexes for each event written: of the five on `event`, two stay.

Per event, PostgreSQL spent 17-19 us, about a third of it keeping indexes. What stays:
- the per-partition (project_id, event_id) key: de-duplication;
- (project_id, "timestamp" DESC, id DESC) INCLUDE (user_id): windows, newest-first pages and
  their cursor, exact unique users (an index-only scan).
What goes:
- the unique key on `id`: ids come from a sequence and nothing looks a row up by id alone
  (it is only the tie-breaker of the time order);
- (project_id, event_type, ...) and (project_id, user_id, ...): counts by type come from the
  rollups and unique users from the index above or the sketches; a listing or export filtered
  by type or user walks the time index newest first, within its window, and a page stops as
  soon as it is full. That is slower only for a type or user that is rare in a large window;
  an install that looks users up often can add the user index back with one
  `CREATE INDEX ... ON event (project_id, user_id, "timestamp" DESC, id DESC)`, which
  PostgreSQL builds on every partition (see docs/scaling.md).
The id sequence hands each session 100 values at a time (fewer sequence updates); ids then
increase per session rather than globally, which the tie-break does not need."""

from webapp.store import partitions


def up(migrator, db):
    for table in partitions.partitions(db):
        for index in partitions.indexes(db, table):
            if index.unique and index.columns == ("id",):
                db.execute_sql(f"DROP INDEX {index.name}")
    db.execute_sql("DROP INDEX IF EXISTS event_project_type_time")
    db.execute_sql("DROP INDEX IF EXISTS event_project_user_time")
    sequence = db.execute_sql("SELECT pg_get_serial_sequence('event', 'id')").fetchone()[0]
    if sequence:
        db.execute_sql(f"ALTER SEQUENCE {sequence} CACHE 100")
