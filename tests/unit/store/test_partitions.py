"""Partition arithmetic: names, the days kept ready, the days expired, index copies."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from webapp.store import partitions


def test_names_round_trip_and_other_tables_have_no_day():
    assert partitions.name_of(date(2026, 3, 9)) == "event_p20260309"
    assert partitions.day_of("event_p20260309") == date(2026, 3, 9)
    assert partitions.day_of("event_default") is None
    assert partitions.day_of("event_p2026030") is None


def test_days_ahead_start_yesterday():
    now = datetime(2026, 12, 31, 23, 59, tzinfo=UTC)
    assert partitions.days_ahead(now, 2) == [date(2026, 12, 30), date(2026, 12, 31),
                                             date(2027, 1, 1), date(2027, 1, 2)]


@pytest.mark.parametrize(("hour", "expired"), [(0, [date(2026, 1, 1)]),
                                               (23, [date(2026, 1, 1)])])
def test_a_day_expires_only_once_all_of_it_is_older_than_retention(hour, expired):
    now = datetime(2026, 1, 12, hour, tzinfo=UTC)
    days = [date(2026, 1, d) for d in range(1, 13)]
    # 10 days before 2026-01-12 is 2026-01-02 (at `hour`): the 1st ended before that, the 2nd
    # had not
    assert partitions.expired_days(days, now, 10) == expired


def test_index_definitions_are_copied_to_a_partition():
    definition = ("CREATE UNIQUE INDEX event_default_project_event_id ON public.event_default "
                  "USING btree (project_id, event_id)")
    assert partitions.index_for(definition, "event_p20260309") == (
        "CREATE UNIQUE INDEX event_p20260309_project_event_id ON event_p20260309 "
        "USING btree (project_id, event_id)")
    plain = "CREATE INDEX by_meta ON ONLY public.event USING gin (metadata)"
    assert partitions.index_for(plain, "event_p20260309").startswith(
        "CREATE INDEX event_p20260309_by_meta ON event_p20260309 USING gin")
    with pytest.raises(ValueError):
        partitions.index_for("SELECT 1", "event_p20260309")
