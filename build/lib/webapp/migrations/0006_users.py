"""Dashboard users and their roles in organizations."""

SQL = """
CREATE TABLE app_user (
    id            SERIAL PRIMARY KEY,
    email         VARCHAR(254) NOT NULL UNIQUE,
    password_hash VARCHAR(256) NOT NULL,
    created_at    TIMESTAMPTZ  NOT NULL DEFAULT now(),
    last_login_at TIMESTAMPTZ
);

CREATE TABLE membership (
    user_id         INTEGER    NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
    organization_id INTEGER    NOT NULL REFERENCES organization (id) ON DELETE CASCADE,
    role            VARCHAR(8) NOT NULL CHECK (role IN ('owner', 'admin', 'viewer')),
    PRIMARY KEY (user_id, organization_id)
);
CREATE INDEX membership_organization ON membership (organization_id);
"""


def up(migrator, db):
    db.execute_sql(SQL)
