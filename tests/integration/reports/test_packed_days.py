"""A day's packed row is the same whichever statement packs it: the lean one (types from the
hourly rollups, new users numbered first) or the full one; for a property's values too."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from tests.integration.reports.test_reports_property import store
from webapp.reports.columns import build

BASE = datetime(2026, 3, 7, tzinfo=UTC)


def packed(project_id: int, day) -> tuple:
    """The day's row as the full statement packs it, sorted as the row is."""
    start, end = build.day_bounds(day)
    (names,), c = build._build(build.DAY_BUILD,
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

        start, end = build.day_bounds(day)
        params = {"project": project.id, "start": start, "end": end}
        assert build._lean(build.LEAN_DAY, params, 0) is not None  # numbers new users
        build.build_day(project.id, day, 1, 1)
        assert stored(project.id, day) == packed(project.id, day)
        assert stored(project.id, day)[0] == ["buy", "signup", "view"]
        # the rollups list a type no event of the day has: the row lists only the day's own
        database.execute_sql("DELETE FROM event WHERE project_id = %s AND "
                             "event_type = 'signup'", (project.id,))
        build.build_day(project.id, day, 1, 3)
        assert stored(project.id, day) == packed(project.id, day)
        assert stored(project.id, day)[0] == ["buy", "view"]
        # a type the rollups do not list: the full statement packs the day
        database.execute_sql("DELETE FROM event_rollup_hour WHERE project_id = %s AND "
                             "event_type = 'buy'", (project.id,))
        assert build._lean(build.LEAN_DAY, params, 0) is None
        build.build_day(project.id, day, 1, 3)
        assert stored(project.id, day) == packed(project.id, day)


def by_row(lists: list, columns: dict) -> tuple:
    """A property build's lists, and its events as sorted tuples (it packs them unsorted)."""
    return lists, sorted(zip(*(columns[k].tolist() for k in ("users", "times", "ids", "kinds",
                                                             "codes")), strict=True))


def test_the_lean_and_the_full_statement_pack_a_property_alike(app, project):
    events = [("view", "p-a", 60, {"page": "/b"}), ("view", "p-b", 120, {"page": "/a"}),
              ("buy", "p-a", 30, {"plan": "pro"}), ("view", "p-c", 90, {"page": "/b"}),
              ("buy", "p-b", 86_400 + 5, {"page": "/z"})]
    store(app, project.id, BASE, events)
    start, end = build.day_bounds(BASE.date())
    params = {"project": project.id, "start": start, "end": end, "prop": "page"}
    with app.app_context():
        lean = build._lean(build.LEAN_PROP, params, 1)
        assert lean is not None and lean[0] == [["buy", "view"], ["/a", "/b"]]
        assert by_row(*lean) == by_row(*build._build(build.PROP_BUILD, params, 2))
