"""The (project, user, time) index again, for user timelines.

0031 dropped it to make each write cheaper (listings filtered by user can walk the time
index). User timelines (`/users/<userId>`: first and last seen, counts per type, every event
newest first) need it: without it, a user's first event is found only by reading the whole
project. It costs about 2.5 us per event written (docs/scaling.md). Created on the partitioned
table, so PostgreSQL builds it on every partition, present and future."""

SQL = """
CREATE INDEX IF NOT EXISTS event_project_user_time
    ON event (project_id, user_id, "timestamp" DESC, id DESC);
"""


def up(migrator, db):
    db.execute_sql(SQL)


def down(migrator, db):
    db.execute_sql("DROP INDEX IF EXISTS event_project_user_time;")
