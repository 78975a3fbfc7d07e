"""A GIN index on event metadata, for property filters (`metadata.page=/pricing`)."""

SQL = """
CREATE INDEX event_metadata ON event USING gin (metadata jsonb_path_ops);
"""


def up(migrator, db):
    db.execute_sql(SQL)


def down(migrator, db):
    db.execute_sql("DROP INDEX event_metadata;")
