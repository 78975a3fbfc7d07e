"""Saved reports (a name and a report's query) and read-only share links to one view."""

SQL = """
CREATE TABLE saved_report (
    id          SERIAL PRIMARY KEY,
    project_id  INTEGER      NOT NULL REFERENCES project (id) ON DELETE CASCADE,
    name        VARCHAR(200) NOT NULL,
    kind        VARCHAR(16)  NOT NULL,
    query       TEXT         NOT NULL,
    created_at  TIMESTAMPTZ  NOT NULL DEFAULT now()
);
CREATE INDEX saved_report_project ON saved_report (project_id);

-- a link shows one dashboard or one saved report of one project, to anyone who holds it
CREATE TABLE share_link (
    id              SERIAL PRIMARY KEY,
    project_id      INTEGER      NOT NULL REFERENCES project (id) ON DELETE CASCADE,
    saved_report_id INTEGER      REFERENCES saved_report (id) ON DELETE CASCADE,
    token_hash      CHAR(64)     NOT NULL UNIQUE,
    password_hash   VARCHAR(256),
    created_at      TIMESTAMPTZ  NOT NULL DEFAULT now(),
    revoked_at      TIMESTAMPTZ
);
CREATE INDEX share_link_project ON share_link (project_id);
"""


def up(migrator, db):
    db.execute_sql(SQL)


def down(migrator, db):
    db.execute_sql("DROP TABLE share_link; DROP TABLE saved_report;")
