"""Packed columns of each UTC day's events for the report engine (`webapp.reports.columns`).

`report_user` numbers each user of a project once (the packed columns hold these numbers, not
the names); `report_day` holds a project's day as three byte strings, built when a report
first needs the day and rebuilt after a commit touches it; `report_prop` holds, per day and
metadata property that a breakdown asked for, each event's user, time, type and value (as a code
into the row's list of values). All three are derived from `event` and can be emptied at
any time: the days are built again on the next report. The byte strings are
stored without compression (they are dense numbers; compressing them would cost each read
more than it saves)."""

UP = """
CREATE TABLE report_user (
    project_id integer NOT NULL REFERENCES project (id) ON DELETE CASCADE,
    user_id varchar(128) NOT NULL,
    no bigint GENERATED ALWAYS AS IDENTITY,
    PRIMARY KEY (project_id, user_id)
);
CREATE TABLE report_day (
    project_id integer NOT NULL REFERENCES project (id) ON DELETE CASCADE,
    day date NOT NULL,
    epoch bigint NOT NULL,
    commits bigint NOT NULL,
    events integer NOT NULL,
    names text[] NOT NULL,
    users bytea NOT NULL,
    times bytea NOT NULL,
    kinds bytea NOT NULL,
    PRIMARY KEY (project_id, day)
);
ALTER TABLE report_day ALTER COLUMN users SET STORAGE EXTERNAL,
    ALTER COLUMN times SET STORAGE EXTERNAL, ALTER COLUMN kinds SET STORAGE EXTERNAL;
CREATE TABLE report_prop (
    project_id integer NOT NULL REFERENCES project (id) ON DELETE CASCADE,
    day date NOT NULL,
    prop text NOT NULL,
    epoch bigint NOT NULL,
    commits bigint NOT NULL,
    events integer NOT NULL,
    names text[] NOT NULL,
    "values" text[] NOT NULL,
    users bytea NOT NULL,
    times bytea NOT NULL,
    kinds bytea NOT NULL,
    codes bytea NOT NULL,
    PRIMARY KEY (project_id, day, prop)
);
ALTER TABLE report_prop ALTER COLUMN users SET STORAGE EXTERNAL,
    ALTER COLUMN times SET STORAGE EXTERNAL, ALTER COLUMN kinds SET STORAGE EXTERNAL,
    ALTER COLUMN codes SET STORAGE EXTERNAL;
"""

DOWN = """
DROP TABLE IF EXISTS report_prop;
DROP TABLE IF EXISTS report_day;
DROP TABLE IF EXISTS report_user;
"""


def up(migrator, db):
    db.execute_sql(UP)


def down(migrator, db):
    db.execute_sql(DOWN)
