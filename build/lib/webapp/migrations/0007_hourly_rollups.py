"""Hourly rollups beside the per-minute ones, so a week sums 168 rows per type, not 10,080."""

SQL = """
CREATE TABLE event_rollup_hour (
    project_id INTEGER     NOT NULL REFERENCES project (id) ON DELETE CASCADE,
    hour       TIMESTAMPTZ NOT NULL,
    event_type VARCHAR(64) NOT NULL,
    count      BIGINT      NOT NULL,
    PRIMARY KEY (project_id, hour, event_type)
);
INSERT INTO event_rollup_hour (project_id, hour, event_type, count)
    SELECT project_id, date_trunc('hour', minute), event_type, sum(count)
    FROM event_rollup_minute GROUP BY 1, 2, 3;
"""


def up(migrator, db):
    db.execute_sql(SQL)
