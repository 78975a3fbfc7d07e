"""Alert rules on saved trends: a rule may name one of its project's saved reports and what it
watches there (a series letter or the formula), with a threshold that may be a decimal. The
foreign key holds the project too, so a rule can never name another project's report, and
deleting the saved report deletes its rules."""

UP = """
ALTER TABLE saved_report ADD CONSTRAINT saved_report_project_id UNIQUE (project_id, id);
ALTER TABLE alert_rule
    ADD COLUMN saved_report_id INTEGER,
    ADD COLUMN series VARCHAR(7) CHECK (series IN ('A', 'B', 'C', 'D', 'E', 'formula')),
    ADD COLUMN problem VARCHAR(300),
    ADD CONSTRAINT alert_rule_saved_report FOREIGN KEY (project_id, saved_report_id)
        REFERENCES saved_report (project_id, id) ON DELETE CASCADE,
    ADD CONSTRAINT alert_rule_trend_series CHECK ((saved_report_id IS NULL) = (series IS NULL)),
    ALTER COLUMN threshold TYPE NUMERIC,
    ALTER COLUMN window_minutes DROP NOT NULL,
    ADD CONSTRAINT alert_rule_window CHECK (saved_report_id IS NOT NULL
                                            OR window_minutes IS NOT NULL);
CREATE INDEX alert_rule_saved_report ON alert_rule (project_id, saved_report_id)
    WHERE saved_report_id IS NOT NULL;
"""

DOWN = """
DELETE FROM alert_rule WHERE saved_report_id IS NOT NULL;
DROP INDEX alert_rule_saved_report;
ALTER TABLE alert_rule
    DROP CONSTRAINT alert_rule_window,
    ALTER COLUMN window_minutes SET NOT NULL,
    ALTER COLUMN threshold TYPE BIGINT,
    DROP CONSTRAINT alert_rule_trend_series,
    DROP CONSTRAINT alert_rule_saved_report,
    DROP COLUMN problem,
    DROP COLUMN series,
    DROP COLUMN saved_report_id;
ALTER TABLE saved_report DROP CONSTRAINT saved_report_project_id;
"""


def up(migrator, db):
    db.execute_sql(UP)


def down(migrator, db):
    db.execute_sql(DOWN)
