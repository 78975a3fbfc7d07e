"""When ids derived from Idempotency-Key/webhook-id got their own `delivery:` namespace.

Rows received before then may carry a derived id without the prefix; a sender's retry of such
a delivery must still find it (see webapp/store/insert.py)."""

SQL = """
CREATE TABLE delivery_namespace (
    since TIMESTAMPTZ NOT NULL
);
INSERT INTO delivery_namespace (since) VALUES (now());
"""


def up(migrator, db):
    db.execute_sql(SQL)
