"""A day's packed row is the same whichever statement packs it: the lean one (types from the
hourly rollups, new users numbered first) or the full one."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from tests.integration.reports.test_reports_property import store
from webapp.reports import columns

BASE = datetime(2026, 3, 7, tzinfo=UTC)


def packed(project_id: int, day) -> tuple:
    """The day's row as the full statement packs it, sorted as the row is."""
    start, end = columns.day_bounds(day)
    (names,), c = columns._build(columns.DAY_BUILD,
                                 {"project": project_id, "start": start, "end": end}, 1)
    order = np.lexsort((c["ids"], c["times"], c["users"]))
    return (names, c["users"][order].tolist(), c["times"][order].tolist(),
            c["kinds"][order].tolist())


def stored(project_id: int, day) -> tuple:
    from webapp.db import database

    names, users, times, kinds = database.execute_sql(
        "SELECT names, users, times, kinds FROM report_day WHERE project_id = %s AND day = %s",
        (project_id, day)).fetchone()
    return (names, np.frombuffer(users, "<i8").tolist(), np.frombuffer(times, "<i8").tolist(),
            np.frombuffer(kinds, "<i2").tolist())


def test_the_lean_and_the_full_statement_pack_a_day_alike(app, project):
    events = [("signup", "new-a", 60, {}), ("view", "new-b", 120, {}), ("view", "new-a", 30, {}),
              ("buy", "new-a", 90, {}), ("view", "new-b", 86_400 + 5, {})]
    store(app, project.id, BASE, events)
    day = BASE.date()
    with app.app_context():
        from webapp.db import database

        start, end = columns.day_bounds(day)
        params = {"project": project.id, "start": start, "end": end}
        assert columns._lean(params) is not None  # numbers the new users first
        columns.build_day(project.id, day, 1, 1)
        assert stored(project.id, day) == packed(project.id, day)
        assert stored(project.id, day)[0] == ["buy", "signup", "view"]
        # the rollups list a type no event of the day has: the row lists only the day's own
        database.execute_sql("DELETE FROM event WHERE project_id = %s AND "
                             "event_type = 'signup'", (project.id,))
        columns.build_day(project.id, day, 1, 3)
        assert stored(project.id, day) == packed(project.id, day)
        assert stored(project.id, day)[0] == ["buy", "view"]
        # a type the rollups do not list: the full statement packs the day
        database.execute_sql("DELETE FROM event_rollup_hour WHERE project_id = %s AND "
                             "event_type = 'buy'", (project.id,))
        assert columns._lean(params) is None
        columns.build_day(project.id, day, 1, 3)
        assert stored(project.id, day) == packed(project.id, day)
