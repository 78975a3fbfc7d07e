"""A project's time zone is one that both Python and PostgreSQL know: `localtime` is a file of
Python's zone data here, but PostgreSQL refuses it, so reads in it would fail."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime, timedelta

from tests.helpers import READ_HEADERS, csrf_token, sql_scalar
from webapp.models import iso
from webapp.tenancy.values import python_zones, valid_zones

UNKNOWN_TO_POSTGRESQL = "localtime"


def test_zones_offered_are_those_postgresql_knows_too(app, project):
    from webapp.db import database

    with app.app_context():
        zones = valid_zones()
        known = {name for (name,) in database.execute_sql(
            "SELECT name FROM pg_timezone_names").fetchall()}
    assert UNKNOWN_TO_POSTGRESQL in python_zones() and UNKNOWN_TO_POSTGRESQL not in known
    assert UNKNOWN_TO_POSTGRESQL not in zones
    assert {"UTC", "Australia/Lord_Howe", "Asia/Kathmandu", "America/St_Johns"} <= zones
    assert zones == python_zones() & known


def test_localtime_is_refused_on_the_manage_page(app, logged_in, project):
    page = logged_in.get("/manage/projects/default")
    assert page.status_code == 200
    assert f'"{UNKNOWN_TO_POSTGRESQL}"' not in page.get_data(as_text=True)
    answer = logged_in.post("/manage/projects/default/time-zone",
                            data={"csrf_token": csrf_token(page.get_data(as_text=True)),
                                  "time_zone": UNKNOWN_TO_POSTGRESQL})
    assert answer.status_code == 400
    assert "is not an IANA time zone" in answer.get_data(as_text=True)
    assert sql_scalar(app, "SELECT time_zone FROM project WHERE id = %s", (project.id,)) == "UTC"


def test_localtime_is_refused_by_the_cli(app, project):
    runner = app.test_cli_runner()
    refused = runner.invoke(args=["projects", "time-zone", "default", UNKNOWN_TO_POSTGRESQL])
    assert refused.exit_code == 2 and "is not an IANA time zone" in refused.output
    assert sql_scalar(app, "SELECT time_zone FROM project WHERE id = %s", (project.id,)) == "UTC"
    taken = runner.invoke(args=["projects", "time-zone", "default", "Asia/Kathmandu"])
    assert taken.exit_code == 0, taken.output


def test_a_project_saved_with_localtime_reads_in_utc_after_the_upgrade(app, client, project):
    from webapp.db import database
    from webapp.store.insert import store_batch

    now = datetime.now(UTC).replace(microsecond=0)
    with app.app_context():
        store_batch(project.id, [{"id": f"e{i}", "type": kind, "user": "u1",
                                  "ts": iso(now - timedelta(days=2, minutes=i)),
                                  "meta": {"plan": "pro"}, "rcv": iso(now)}
                                 for i, kind in enumerate(["a", "b"])])
        database.execute_sql("UPDATE project SET time_zone = %s WHERE id = %s",
                             (UNKNOWN_TO_POSTGRESQL, project.id))
        importlib.import_module("webapp.migrations.0053_project_time_zones_postgresql_knows") \
            .up(None, database)
    assert sql_scalar(app, "SELECT time_zone FROM project WHERE id = %s", (project.id,)) == "UTC"
    for url in ("/events/stats?from={day}&to={today}&bucket=day",
                "/events/stats?from={day}&to={today}&bucket=week",
                "/reports/retention?from={day}&to={today}&where=metadata.plan=pro"):
        answer = client.get(url.format(day=(now - timedelta(days=6)).date(), today=now.date()),
                            headers=READ_HEADERS)
        assert answer.status_code == 200, (url, answer.get_json())
        assert answer.get_json()["data"]["timeZone"] == "UTC"
