"""When ids derived from Idempotency-Key/webhook-id got their own `delivery:` namespace.

Rows received before then may carry a derived id without the prefix; a sender's retry of such
a delivery once looked for it here. Those retries are long past: no insert reads the table now."""

SQL = """
CREATE TABLE delivery_namespace (
    since TIMESTAMPTZ NOT NULL
);
INSERT INTO delivery_namespace (since) VALUES (now());
"""


def up(migrator, db):
    db.execute_sql(SQL)
