"""Alert rules per project, and the notices (fired, resolved) they send with their delivery."""

SQL = """
CREATE TABLE alert_rule (
    id             SERIAL PRIMARY KEY,
    project_id     INTEGER      NOT NULL REFERENCES project (id) ON DELETE CASCADE,
    name           VARCHAR(100) NOT NULL,
    kind           VARCHAR(9)   NOT NULL CHECK (kind IN ('threshold', 'spike', 'drop')),
    event_type     VARCHAR(64),
    comparator     VARCHAR(1)   CHECK (comparator IN ('>', '<')),
    threshold      BIGINT,
    window_minutes INTEGER      NOT NULL,
    property_key   VARCHAR(100),
    property_value VARCHAR(200),
    z_score        DOUBLE PRECISION,
    min_volume     INTEGER,
    url            VARCHAR(2000) NOT NULL,
    secret         VARCHAR(200) NOT NULL,
    body_format    VARCHAR(8)   NOT NULL DEFAULT 'standard',
    max_per_day    INTEGER      NOT NULL DEFAULT 10,
    active         BOOLEAN      NOT NULL DEFAULT true,
    state          VARCHAR(8)   NOT NULL DEFAULT 'ok',
    notified       BOOLEAN      NOT NULL DEFAULT false,
    last_value     DOUBLE PRECISION,
    changed_at     TIMESTAMPTZ,
    created_at     TIMESTAMPTZ  NOT NULL DEFAULT now()
);
CREATE INDEX alert_rule_active ON alert_rule (project_id) WHERE active;

CREATE TABLE alert_notice (
    id           SERIAL PRIMARY KEY,
    rule_id      INTEGER      NOT NULL REFERENCES alert_rule (id) ON DELETE CASCADE,
    project_id   INTEGER      NOT NULL REFERENCES project (id) ON DELETE CASCADE,
    kind         VARCHAR(8)   NOT NULL CHECK (kind IN ('fired', 'resolved', 'test')),
    value        DOUBLE PRECISION NOT NULL,
    message      TEXT         NOT NULL,
    at           TIMESTAMPTZ  NOT NULL DEFAULT now(),
    status       VARCHAR(10)  NOT NULL DEFAULT 'pending',
    attempts     INTEGER      NOT NULL DEFAULT 0,
    next_try_at  TIMESTAMPTZ,
    last_code    INTEGER,
    last_error   TEXT,
    delivered_at TIMESTAMPTZ
);
CREATE INDEX alert_notice_rule ON alert_notice (rule_id, at);
CREATE INDEX alert_notice_project ON alert_notice (project_id, at);
CREATE INDEX alert_notice_due ON alert_notice (next_try_at) WHERE status = 'pending';
"""


def up(migrator, db):
    db.execute_sql(SQL)
