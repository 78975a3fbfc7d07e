"""Every CSV download (each report's and the event export) neutralises a cell a spreadsheet
would run as a formula, with the one helper the export uses."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from tests.helpers import READ_HEADERS
from webapp.models import iso

NOW = datetime.now(UTC).replace(microsecond=0)
# what a sender controls: property values, and event types (letters, digits and `_ . : -`)
VALUES = ['=HYPERLINK("http://evil.test","x")', "+1", "-1", "@x", "\t=1", "\r=1"]
DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


@pytest.fixture
def hostile(app, project):
    """u1 and u2 do -a then -b then -a again, each with a hostile `v` property."""
    from webapp.store.insert import store_batch

    rows, n = [], 0
    for user in ("u1", "u2"):
        for minutes, kind in ((50, "-a"), (40, "-b"), (30, "-a")):
            for value in VALUES:
                n += 1
                rows.append({"id": f"h{n}", "type": kind, "user": user,
                             "ts": iso(NOW - timedelta(minutes=minutes, seconds=n)),
                             "meta": {"v": value}, "rcv": iso(NOW)})
    with app.app_context():
        store_batch(project.id, rows)


def download(client, path: str) -> list[list[str]]:
    answer = client.get(path, headers=READ_HEADERS)
    assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    assert answer.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(answer.get_data(as_text=True), newline="")))


def assert_no_formula(rows: list[list[str]]) -> None:
    for row in rows:
        for cell in row:
            try:
                float(cell)  # a number is a number to a spreadsheet, never a formula
            except ValueError:
                assert not cell.startswith(DANGEROUS), (cell, row)


@pytest.mark.parametrize("path", [
    "/reports/funnel.csv?step=-a&step=-b&window=1h",
    "/reports/funnel.csv?step=-a&step=-b&window=1h&step1.where=metadata.v=%2B1",
    "/reports/paths.csv?event=-a&depth=3",
    "/reports/breakdown.csv?property=v",
    "/reports/breakdown.csv?property=v&event=-b",
    "/reports/retention.csv?start=-a&unit=day&periods=2",
    "/events/export?filter=day",
])
def test_no_csv_cell_starts_a_formula(client, hostile, path):
    assert_no_formula(download(client, path))


def test_each_hostile_value_is_quoted_as_text(client, hostile):
    values = {row[0] for row in download(client, "/reports/breakdown.csv?property=v")[1:]}
    assert values == {"'" + value for value in VALUES}
    funnel = download(client, "/reports/funnel.csv?step=-a&step=-b&window=1h")
    assert [row[1] for row in funnel[1:]] == ["'-a", "'-b"]
    assert [row[3] for row in funnel[1:]] == ["2", "2"]  # numbers stay numbers
    paths = download(client, "/reports/paths.csv?event=-a&depth=2")
    assert paths[1] == ["'-a > -b > -a", "2"]
    exported = download(client, "/events/export?filter=day")
    assert {row[1] for row in exported[1:]} == {"'-a", "'-b"}
