"""Projects, events and the per-minute rollups the worker keeps beside them."""

SQL = """
CREATE TABLE project (
    id              SERIAL PRIMARY KEY,
    slug            VARCHAR(64)  NOT NULL UNIQUE,
    name            VARCHAR(200) NOT NULL,
    ingest_key_hash CHAR(64)     NOT NULL UNIQUE,
    read_token_hash CHAR(64)     NOT NULL UNIQUE,
    created_at      TIMESTAMPTZ  NOT NULL DEFAULT now()
);

CREATE TABLE event (
    id          BIGSERIAL    PRIMARY KEY,
    project_id  INTEGER      NOT NULL REFERENCES project (id) ON DELETE CASCADE,
    event_id    VARCHAR(100) NOT NULL,
    event_type  VARCHAR(64)  NOT NULL,
    user_id     VARCHAR(128) NOT NULL,
    "timestamp" TIMESTAMPTZ  NOT NULL,
    metadata    JSONB        NOT NULL DEFAULT '{}'::jsonb,
    received_at TIMESTAMPTZ  NOT NULL,
    CONSTRAINT event_project_event_id UNIQUE (project_id, event_id)
);
-- time-range reads and newest-first pages; user_id rides along for unique-user counts
CREATE INDEX event_project_time ON event (project_id, "timestamp" DESC, id DESC) INCLUDE (user_id);
CREATE INDEX event_project_type_time ON event (project_id, event_type, "timestamp" DESC, id DESC);
CREATE INDEX event_project_user_time ON event (project_id, user_id, "timestamp" DESC, id DESC);

-- events per minute and type, counting only rows actually inserted
CREATE TABLE event_rollup_minute (
    project_id INTEGER     NOT NULL REFERENCES project (id) ON DELETE CASCADE,
    minute     TIMESTAMPTZ NOT NULL,
    event_type VARCHAR(64) NOT NULL,
    count      BIGINT      NOT NULL,
    PRIMARY KEY (project_id, minute, event_type)
);

-- events rejected by validation, per minute received
CREATE TABLE invalid_rollup_minute (
    project_id INTEGER     NOT NULL REFERENCES project (id) ON DELETE CASCADE,
    minute     TIMESTAMPTZ NOT NULL,
    count      BIGINT      NOT NULL,
    PRIMARY KEY (project_id, minute)
);
"""


def up(migrator, db):
    db.execute_sql(SQL)


def down(migrator, db):
    db.execute_sql(
        "DROP TABLE invalid_rollup_minute; DROP TABLE event_rollup_minute; "
        "DROP TABLE event; DROP TABLE project;"
    )
