"""Annotations: a project's notes at an instant or over a range, written by a member, an
annotation key or the command line; the annotation key becomes a kind of key."""

SQL = """
ALTER TABLE api_key DROP CONSTRAINT api_key_kind_check;
ALTER TABLE api_key ADD CONSTRAINT api_key_kind_check
    CHECK (kind IN ('ingest', 'read', 'annotate'));
-- a note names the key that wrote it together with its project, so it can name no other's
ALTER TABLE api_key ADD CONSTRAINT api_key_project_key UNIQUE (project_id, id);

CREATE TABLE annotation (
    id                 SERIAL,
    project_id         INTEGER      NOT NULL REFERENCES project (id) ON DELETE CASCADE,
    starts_at          TIMESTAMPTZ  NOT NULL,
    ends_at            TIMESTAMPTZ  CHECK (ends_at > starts_at),
    text               VARCHAR(200) NOT NULL CHECK (btrim(text) <> ''),
    source             VARCHAR(8)   NOT NULL CHECK (source IN ('page', 'api', 'command')),
    created_by_user_id INTEGER      REFERENCES app_user (id) ON DELETE SET NULL,
    created_by_key_id  INTEGER,
    created_at         TIMESTAMPTZ  NOT NULL DEFAULT now(),
    updated_at         TIMESTAMPTZ  NOT NULL DEFAULT now(),
    PRIMARY KEY (project_id, id),
    FOREIGN KEY (project_id, created_by_key_id) REFERENCES api_key (project_id, id)
        ON DELETE SET NULL (created_by_key_id),
    CHECK (created_by_user_id IS NULL OR created_by_key_id IS NULL)
);
-- a chart's notes: those of the project that start before its end, newest first
CREATE INDEX annotation_project_start ON annotation (project_id, starts_at);
"""


def up(migrator, db):
    db.execute_sql(SQL)


def down(migrator, db):
    db.execute_sql("""
        DROP TABLE annotation;
        ALTER TABLE api_key DROP CONSTRAINT api_key_project_key;
        DELETE FROM api_key WHERE kind = 'annotate';
        ALTER TABLE api_key DROP CONSTRAINT api_key_kind_check;
        ALTER TABLE api_key ADD CONSTRAINT api_key_kind_check CHECK (kind IN ('ingest', 'read'));
    """)
