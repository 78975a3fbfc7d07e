"""Dashboard sessions kept on the server: logging out, a password change or a removed
membership ends them, whatever a browser still holds."""

SQL = """
CREATE TABLE user_session (
    token_hash CHAR(64)    PRIMARY KEY,  -- SHA-256 of the id the signed cookie holds
    user_id    INTEGER     NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX user_session_user ON user_session (user_id);
"""


def up(migrator, db):
    db.execute_sql(SQL)
