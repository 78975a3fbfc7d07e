"""Per-project and per-ingest-key /webhook limits (flask-limiter notation; NULL: the default)."""

SQL = """
ALTER TABLE project ADD COLUMN request_limit VARCHAR(200), ADD COLUMN event_limit VARCHAR(200);
ALTER TABLE api_key ADD COLUMN request_limit VARCHAR(200), ADD COLUMN event_limit VARCHAR(200);
"""


def up(migrator, db):
    db.execute_sql(SQL)
