"""CSV export: a cell a spreadsheet would run as a formula is neutralised with a leading quote
(OWASP's advice), and every other cell is exactly what was stored."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from webapp.reads.export import csv_chunks

DANGEROUS = "=+-@\t\r"
NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
text = st.one_of(st.text(max_size=20),
                 st.tuples(st.sampled_from(DANGEROUS), st.text(max_size=20)).map("".join))


def exported(rows: list[tuple[str, str, str]]) -> list[list[str]]:
    source = [(event_id, kind, user, NOW, NOW, "{}") for event_id, kind, user in rows]
    body = "".join(csv_chunks(iter(source)))
    return list(csv.reader(io.StringIO(body, newline="")))[1:]


def test_known_payloads_become_text():
    rows = exported([("=cmd|' /C calc'!A0", "+1+1", "@SUM(A1)"), ("-2+3", "\tx", "\r=1")])
    assert rows[0][:3] == ["'=cmd|' /C calc'!A0", "'+1+1", "'@SUM(A1)"]
    assert rows[1][:3] == ["'-2+3", "'\tx", "'\r=1"]


@given(st.lists(st.tuples(text, text, text), max_size=5))
def test_no_cell_starts_a_formula_and_safe_cells_are_unchanged(rows):
    for sent, got in zip(rows, exported(rows), strict=True):
        for original, cell in zip(sent, got[:3], strict=True):
            assert not cell.startswith(tuple(DANGEROUS))
            if original.startswith(tuple(DANGEROUS)):
                assert cell == "'" + original
            else:
                assert cell == original
