"""Projects whose time zone PostgreSQL does not know (`localtime`, which Python's zone data
holds and which was once accepted) count their days in UTC: their reads no longer fail."""

SQL = """
UPDATE project SET time_zone = 'UTC'
WHERE time_zone NOT IN (SELECT name FROM pg_timezone_names);
"""


def up(migrator, db):
    db.execute_sql(SQL)


def down(migrator, db):
    pass  # the zones set aside were never usable
