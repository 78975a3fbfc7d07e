"""Each project has an IANA time zone: its day and week boundaries, date pickers and axes."""

SQL = """
ALTER TABLE project ADD COLUMN time_zone VARCHAR(64) NOT NULL DEFAULT 'UTC';
"""


def up(migrator, db):
    db.execute_sql(SQL)


def down(migrator, db):
    db.execute_sql("ALTER TABLE project DROP COLUMN time_zone;")
