"""Daily partitions on real PostgreSQL: the conversion of an unpartitioned install, upkeep,
retention by whole partitions, and de-duplication across days."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from playhouse.migrations import Runner

from tests.helpers import READ_HEADERS, sql_scalar
from webapp import db as webapp_db
from webapp.db import MIGRATIONS
from webapp.ingest import accept
from webapp.store import insert, partitions

NOW = datetime.now(UTC).replace(microsecond=0)
BEFORE = "0008_dead_letters"  # the last migration of an unpartitioned install
CONVERSION = "0030_event_partitions"


def old_install(database) -> None:
    """An install as it was before partitions, with events over many days (two years ago,
    within retention, today) and an index someone added by hand."""
    Runner(database, str(MIGRATIONS)).up(BEFORE)
    database.execute_sql(
        "INSERT INTO organization (slug, name) VALUES ('o', 'O');"
        "INSERT INTO project (organization_id, slug, name) VALUES (1, 'a', 'A'), (1, 'b', 'B');"
        "CREATE INDEX event_metadata_paths ON event USING gin (metadata jsonb_path_ops);")
    rows = []
    for n, age in enumerate([800, 800, 30, 30, 2, 1, 0, 0, 0]):
        moment = NOW - timedelta(days=age, minutes=n)
        for project in (1, 2):
            rows.append((project, f"e{n}", f"type{n % 3}", f"u{n % 4}", moment,
                         f'{{"n": {n}}}', moment))
    database.execute_sql(
        "INSERT INTO event (project_id, event_id, event_type, user_id, \"timestamp\", metadata, "
        "received_at) VALUES " + ",".join(["(%s, %s, %s, %s, %s, %s, %s)"] * len(rows)),
        [value for row in rows for value in row])


SNAPSHOT = ("SELECT id, project_id, event_id, event_type, user_id, \"timestamp\", metadata::text, "
            "received_at FROM event ORDER BY id")
STATS = ("SELECT project_id, event_type, (\"timestamp\" AT TIME ZONE 'UTC')::date, count(*), "
         "count(DISTINCT user_id) FROM event GROUP BY 1, 2, 3 ORDER BY 1, 2, 3")


def test_converting_an_install_keeps_every_row_and_every_index(app, fresh_database):
    database = fresh_database
    retention = app.config["RETENTION_DAYS"]
    app.config["RETENTION_DAYS"] = 365
    try:
        convert_and_check(app, database)
    finally:
        app.config["RETENTION_DAYS"] = retention


def convert_and_check(app, database):
    with app.app_context(), database.connection_context():
        old_install(database)
        before = [database.execute_sql(sql).fetchall() for sql in (SNAPSHOT, STATS)]
        old_indexes = {index.name: index for index in partitions.indexes(database, "event")}
        assert len(old_indexes) == 6  # the five of 0001 and the hand-made one

        Runner(database, str(MIGRATIONS)).up(CONVERSION)

        assert [database.execute_sql(sql).fetchall() for sql in (SNAPSHOT, STATS)] == before
        assert database.execute_sql(
            "SELECT relkind FROM pg_class WHERE relname = 'event'").fetchone()[0] == "p"
        names = partitions.partitions(database)
        today = partitions.utc_day(NOW)
        expected_days = {today - timedelta(days=age) for age in (30, 2, 1)} | set(
            partitions.days_ahead(NOW, app.config["PARTITION_DAYS_AHEAD"]))
        assert set(partitions.daily(database)) == expected_days
        # the 800-day-old rows are older than any project keeps: in the default partition
        assert database.execute_sql(
            f"SELECT count(*) FROM {partitions.DEFAULT}").fetchone()[0] == 4

        parent = {index.name for index in partitions.indexes(database, "event")}
        for old in old_indexes.values():
            if old.unique:  # a copy on every partition, the same columns
                for name in names:
                    local = [i for i in partitions.indexes(database, name)
                             if i.unique and i.columns == old.columns]
                    assert local, f"{name} lacks the unique key {old.name}"
            else:
                assert old.name in parent
                for name in names:
                    assert any(i.columns == old.columns and not i.unique
                               for i in partitions.indexes(database, name)), (name, old.name)

        # the ids go on from where they were; a repeated event id of the same day is refused
        last = before[0][-1][0]
        database.execute_sql(
            "INSERT INTO event (project_id, event_id, event_type, user_id, \"timestamp\", "
            "received_at) VALUES (1, 'new', 't', 'u', now(), now())")
        assert database.execute_sql("SELECT max(id) FROM event").fetchone()[0] == last + 1
        with pytest.raises(Exception, match="duplicate key"), database.atomic():
            database.execute_sql(
                "INSERT INTO event (project_id, event_id, event_type, user_id, \"timestamp\", "
                "received_at) VALUES (1, 'new', 't', 'u', now(), now())")

        # then the write path's indexes: the event-id key and the time index (ascending
        # since 0051) stay, and the hand-made index too; the row-id key, the type index and
        # our metadata index go, and the user index comes back on (project, user) alone
        Runner(database, str(MIGRATIONS)).up()
        for name in partitions.partitions(database):
            found = partitions.indexes(database, name)
            left = {(i.columns, i.unique) for i in found}
            assert left == {(("project_id", "event_id"), True),
                            (("project_id", "timestamp", "id", "user_id"), False),
                            (("project_id", "user_id"), False),
                            (("metadata",), False)}, name
            assert sum(i.columns == ("metadata",) for i in found) == 1  # the hand-made one
            time_index = next(i for i in found if i.columns[:2] == ("project_id", "timestamp"))
            assert "DESC" not in time_index.definition


def run_maintain(keep_default: int, now: datetime = NOW) -> dict:
    for _ in range(50):  # a worker's own upkeep may hold the lock for a moment
        done = partitions.maintain(webapp_db.database, now, keep_default, 7)
        if not done["skipped"]:
            return done
    raise AssertionError("partition upkeep lock never free")


def test_upkeep_is_idempotent_and_keeps_days_ahead_ready(app, clean):
    with app.app_context():
        run_maintain(3650)
        again = run_maintain(3650)
        assert again["created"] == [] and again["dropped"] == []
        days = set(partitions.daily(webapp_db.database))
        assert set(partitions.days_ahead(NOW, 7)) <= days


def post_aged(client, ages: dict[int, int]) -> list[dict]:
    """Events stamped `age` days ago, `count` of them per age; returns what was posted."""
    sent = []
    for age, count in ages.items():
        for n in range(count):
            sent.append({"eventType": f"t{n % 2}", "userId": f"u{age}-{n % 3}",
                         "id": f"age{age}-{n}",
                         "timestamp": (NOW - timedelta(days=age, minutes=n)).isoformat()})
    response = client.post("/webhook", json=sent, headers={"X-API-Key": INGEST})
    assert response.status_code == 202, response.get_json()
    return sent


INGEST = "pb_test_ingest_key_0123456789"


def day_of(event: dict) -> str:
    return partitions.name_of(partitions.utc_day(datetime.fromisoformat(event["timestamp"])))


def exported_ids(client) -> set[str]:
    response = client.get("/events/export?format=csv&filter=all", headers=READ_HEADERS)
    return {row["id"] for row in csv.DictReader(io.StringIO(response.get_data(as_text=True)))}


@pytest.mark.usefixtures("worker")
def test_retention_drops_whole_partitions_when_every_project_allows(app, client, project):
    from tests.helpers import wait_stored
    from webapp.models import Organization, Project

    with app.app_context():
        other = Project.create(organization=Organization.get(), slug="other", name="Other",
                               retention_days=30)
    ages = {20: 3, 15: 2, 11: 2, 9: 4, 5: 3, 1: 2, 0: 5}
    sent = post_aged(client, ages)
    wait_stored(app, len(sent))
    with app.app_context():
        webapp_db.database.execute_sql(  # the other project's rows share the same days
            "INSERT INTO event (project_id, event_id, event_type, user_id, \"timestamp\", "
            "metadata, received_at) SELECT %s, event_id, event_type, user_id, \"timestamp\", "
            "metadata, received_at FROM event WHERE project_id = %s", (other.id, project.id))
        # every day with rows gets its partition; days older than both projects keep (left
        # by earlier tests of the run) go now, so that what follows sees only this test's days
        Project.update(retention_days=30).where(Project.id == project.id).execute()
        run_maintain(3650)
        assert {day_of(e) for e in sent} <= set(partitions.partitions(webapp_db.database))

        Project.update(retention_days=10).where(Project.id == project.id).execute()
        done = run_maintain(3650)
    # the other project keeps 30 days: nothing is dropped, but older rows are no longer shown
    assert done["dropped"] == []
    kept = {e["id"] for e in sent if (NOW - datetime.fromisoformat(e["timestamp"])).days < 10}
    assert exported_ids(client) == kept

    with app.app_context():
        Project.update(retention_days=10).where(Project.id == other.id).execute()
        done = run_maintain(3650)
        gone = {day_of(e) for e in sent if e["id"].split("-")[0] in ("age20", "age15", "age11")}
        assert set(done["dropped"]) == gone
        assert not gone & set(partitions.partitions(webapp_db.database))
    remaining = {e["id"] for e in sent if (NOW - datetime.fromisoformat(e["timestamp"])).days < 11}
    assert sql_scalar(app, "SELECT count(*) FROM event WHERE project_id = %s",
                      (project.id,)) == len(remaining)
    assert exported_ids(client) == kept
    stats = client.get("/events/stats?filter=week", headers=READ_HEADERS).get_json()["data"]
    in_week = [e for e in sent if datetime.fromisoformat(e["timestamp"]) >=
               datetime.fromisoformat(stats["from"].replace("Z", "+00:00"))]
    assert stats["totalEvents"] == len(in_week)
    assert stats["uniqueUsers"] == len({e["userId"] for e in in_week})
    assert stats["statistics"] == {t: sum(e["eventType"] == t for e in in_week)
                                   for t in sorted({e["eventType"] for e in in_week})}


def prepared(body: bytes, at: datetime, delivery: str | None = None) -> list[dict]:
    return accept.prepare(body, at, delivery).payload


def test_a_repeat_that_arrives_the_next_day_is_stored_once(app, project):
    """A sender's id stamped on receipt: the copy retried after midnight has another day's
    timestamp, so another partition; it is still found. Past 48 h it is a new event."""
    midnight = datetime.combine(partitions.utc_day(NOW), datetime.min.time(), tzinfo=UTC)
    body = b'{"eventType": "order", "userId": "7", "id": "order-42"}'
    with app.app_context():
        first = prepared(body, midnight - timedelta(seconds=1))
        retry = prepared(body, midnight + timedelta(hours=23))
        assert first[0]["ts"] != retry[0]["ts"] and retry[0]["d"] == 2
        assert insert.store_batch(project.id, first) == 1
        assert insert.store_batch(project.id, retry) == 0
        assert insert.store_batch(project.id, first) == 0  # a redelivery: the same day
        # a delivery id works the same way; stored in the reverse order too
        later = prepared(b'[{"eventType": "a", "userId": "1"}]', midnight + timedelta(hours=2),
                         delivery="msg_2xQ7")
        earlier = prepared(b'[{"eventType": "a", "userId": "1"}]',
                           midnight - timedelta(hours=2), delivery="msg_2xQ7")
        assert insert.store_batch(project.id, later) == 1
        assert insert.store_batch(project.id, earlier) == 0
        # beyond the window: two days later is a new event
        assert insert.store_batch(project.id, prepared(body, midnight + timedelta(days=2))) == 1
        assert sql_scalar(app, "SELECT sum(count) FROM event_rollup_minute") == 3


def test_a_worker_creates_the_days_ahead_by_itself(app, clean, worker):
    """No pg_partman: the worker's own upkeep thread makes missing partitions."""
    from tests.helpers import wait_until

    last = partitions.name_of(partitions.days_ahead(datetime.now(UTC),
                                                    app.config["PARTITION_DAYS_AHEAD"])[-1])
    worker.stop()
    with app.app_context():
        if last in partitions.partitions(webapp_db.database):
            webapp_db.database.execute_sql(f"DROP TABLE {last}")
        assert last not in partitions.partitions(webapp_db.database)
    worker.ensure_running()

    def made() -> bool:
        with app.app_context():
            return last in partitions.partitions(webapp_db.database)

    wait_until(made, timeout=30, what=f"the worker to create {last}")


def test_retention_is_set_per_project_from_the_command_line(app, project):
    from webapp.models import Project

    runner = app.test_cli_runner()
    assert "keeps raw events for 30 days" in runner.invoke(
        args=["projects", "retention", "default", "30"]).output
    assert runner.invoke(args=["projects", "retention", "default", "3"]).exit_code != 0
    with app.app_context():
        assert Project.get_by_id(project.id).retention_days == 30
    assert "RETENTION_DAYS" in runner.invoke(args=["projects", "retention", "default"]).output
    with app.app_context():
        assert Project.get_by_id(project.id).retention_days is None


def test_upkeep_while_late_events_arrive_loses_and_doubles_nothing(app, project):
    """Rows stamped on past days land in the default partition while the upkeep moves such
    days into partitions of their own: every row ends up stored exactly once."""
    import threading

    from webapp.db import database

    stop, written, errors = threading.Event(), [], []

    def write_late_events():
        with app.app_context():
            n = 0
            while not stop.is_set() and n < 4000:
                day = NOW - timedelta(days=2 + n // 100 % 20)
                body = json.dumps([{"eventType": "late", "userId": str(i), "id": f"late-{i}",
                                    "timestamp": (day - timedelta(seconds=i)).isoformat()}
                                   for i in range(n, n + 100)]).encode()
                try:
                    written.append(insert.store_batch(
                        project.id, accept.prepare(body, datetime.now(UTC)).payload))
                except Exception as exc:  # noqa: BLE001 - reported below
                    errors.append(exc)
                n += 100

    writer = threading.Thread(target=write_late_events)
    writer.start()
    with app.app_context():
        try:
            while writer.is_alive():
                run_maintain(3650)
        finally:
            stop.set()
            writer.join()
        run_maintain(3650)
        assert not errors
        assert sum(written) == 4000
        assert sql_scalar(app, "SELECT count(*) FROM event WHERE event_type = 'late'") == 4000
        assert database.execute_sql(
            f"SELECT count(*) FROM {partitions.DEFAULT}").fetchone()[0] == 0
        days = {partitions.utc_day(NOW - timedelta(days=2 + k)) for k in range(20)}
        assert days <= set(partitions.daily(database))
