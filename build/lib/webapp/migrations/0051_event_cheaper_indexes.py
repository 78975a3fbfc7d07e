"""Cheaper writes: three of the indexes on `event` change (each event written cost PostgreSQL
about 16 us, against 10-12 us with only the event-id key and the time index).

- The GIN index on metadata (0021) goes. Property filters (`metadata.page=/pricing`) test
  `metadata->>key` on the events of the window, which the time index finds; an install that
  filters by rare values over long windows can add it back, at about 1-2 us an event:
  `CREATE INDEX event_metadata ON event USING gin (metadata jsonb_path_ops);`
- The user index becomes (project_id, user_id), without the time and row id: B-tree
  deduplication then keeps one entry per user and page with the list of its rows, a fraction
  of the size, so far fewer pages are split and written. A user's timeline reads that user's
  rows and sorts them (newest first), which is how its counts were read already.
- The time index is ascending, (project_id, "timestamp", id) INCLUDE (user_id): new events go
  to its right end, where PostgreSQL appends and fills pages before splitting them, instead of
  its left end (the descending order), where every split left a half-empty page behind.
  Newest-first reads scan it backwards, as fast.

Each index is rebuilt on every partition once, during the upgrade, while writes to `event`
wait; the figures are in docs/performance-log.md."""

UP = """
DROP INDEX IF EXISTS event_metadata;
DROP INDEX IF EXISTS event_project_user_time;
CREATE INDEX event_project_user ON event (project_id, user_id);
DROP INDEX IF EXISTS event_project_time;
CREATE INDEX event_project_time ON event (project_id, "timestamp", id) INCLUDE (user_id);
"""

DOWN = """
DROP INDEX IF EXISTS event_project_time;
CREATE INDEX event_project_time ON event (project_id, "timestamp" DESC, id DESC)
    INCLUDE (user_id);
DROP INDEX IF EXISTS event_project_user;
CREATE INDEX event_project_user_time ON event (project_id, user_id, "timestamp" DESC, id DESC);
CREATE INDEX event_metadata ON event USING gin (metadata jsonb_path_ops);
"""


def up(migrator, db):
    db.execute_sql(UP)


def down(migrator, db):
    db.execute_sql(DOWN)
