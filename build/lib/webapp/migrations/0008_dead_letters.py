"""Messages that could not be stored after their retries, kept with the error for replay."""

SQL = """
CREATE TABLE dead_letter (
    id          SERIAL PRIMARY KEY,
    project_id  INTEGER     NOT NULL REFERENCES project (id) ON DELETE CASCADE,
    payload     JSONB       NOT NULL,
    events      INTEGER     NOT NULL,
    error       TEXT        NOT NULL,
    failed_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    replayed_at TIMESTAMPTZ
);
CREATE INDEX dead_letter_pending ON dead_letter (project_id) WHERE replayed_at IS NULL;
"""


def up(migrator, db):
    db.execute_sql(SQL)
