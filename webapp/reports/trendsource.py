"""The events of a trend's series, as columns: from the packed days (`webapp.reports.columns`)
when neither the series nor the range has property conditions and at most one property is
needed, else from PostgreSQL. A `Source` loads one range's days once for all its series, and
finds each packed day's buckets with one comparison where it can."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from webapp.reports import numbers
from webapp.reports.columns import load
from webapp.reports.definition import TIME_LIMIT, Match, Scope, TooSlow, query
from webapp.reports.events import instant_us, within

INT64_MAX = 2**63 - 1
# Within a time limit (a web process), events a trend reads from PostgreSQL row by row per
# millisecond of the limit before it goes to the workers.
SQL_EVENTS_PER_MS = 300


@dataclass
class Columns:
    """A series' events in a range: user numbers, microseconds, and codes of a property's
    values (`values`; -1: none) for the measure (`codes`) and the breakdown (`groups`)."""

    users: np.ndarray
    times: np.ndarray
    slots: np.ndarray | None = None  # each event's bucket, where already known
    codes: np.ndarray | None = None
    values: tuple[str, ...] = ()
    groups: np.ndarray | None = None
    group_values: tuple[str, ...] = ()
    amounts: np.ndarray | None = None  # the measure's numbers, in 10**-places, where known
    places: int = 0


class Source:
    """The events of one range, loaded once for every series that reads them."""

    def __init__(self, scope: Scope, starts: np.ndarray):
        self.scope, self.starts = scope, starts  # the buckets' first microseconds
        self.loaded: dict = {}

    def columns(self, events: Match, prop: str | None, breakdown: str | None,
                numeric: bool = False) -> Columns:
        """The events `events` matches, with the values of `prop` (the measure's property)
        and of `breakdown` where given; with `numeric`, only the events whose value of `prop`
        is a number, as amounts where the packed days serve them."""
        props = tuple(dict.fromkeys(p for p in (prop, breakdown) if p))
        packed = None
        if not events.conditions and numeric and breakdown is None:
            packed = self._amounts(prop, events.event_type)
        if not events.conditions and len(props) <= 1 and packed is None:
            packed = self._packed(props[0] if props else None, events.event_type)
        if packed is None:
            return self._sql(events, prop, props, breakdown)
        if breakdown is not None:  # the one property loaded: the measure's or the breakdown's
            packed.groups, packed.group_values = packed.codes, packed.values
        return packed

    def _packed(self, prop: str | None, event_type: str | None) -> Columns | None:
        key = ("packed", prop)
        if key not in self.loaded:
            self.loaded[key] = (load.days_of_scope(self.scope) if prop is None
                                else load.of_scope_prop(self.scope, prop))
        found = self.loaded[key]
        if found is None:
            return None
        if prop is not None:
            keep = found.kinds == _code(found.names, event_type) if event_type else None
            if keep is None:
                return Columns(found.users, found.times, None, found.codes, found.values)
            return Columns(found.users[keep], found.times[keep], None, found.codes[keep],
                           found.values)
        start, end = instant_us(self.scope.start), instant_us(self.scope.end)
        users, times = [np.empty(0, np.int64)], [np.empty(0, np.int64)]
        slots = [np.empty(0, np.int32)]
        for names, day_users, day_times, kinds in found:
            keep = kinds == _code(names, event_type) if event_type else None
            if keep is not None:
                day_users, day_times = day_users[keep], day_times[keep]
            inside = within(day_times, start, end)
            if inside is not None:
                day_users, day_times = day_users[inside], day_times[inside]
            if len(day_times):
                users.append(day_users)
                times.append(day_times)
                slots.append(self._day_slots(day_times))
        return Columns(np.concatenate(users), np.concatenate(times), np.concatenate(slots))

    def _amounts(self, prop: str, event_type: str | None) -> Columns | None:
        """The events with a number as their value of `prop`, from the packed days one by one:
        each day's distinct values are read as numbers once (and kept), so no list of every
        value of the range is ever made. None where the engine cannot serve it, or where the
        numbers share no 64-bit scale."""
        key = ("days", prop)
        if key not in self.loaded:
            self.loaded[key] = load.prop_days_of_scope(self.scope, prop)
        found = self.loaded[key]
        if found is None:
            return None
        start, end = instant_us(self.scope.start), instant_us(self.scope.end)
        parts = []
        for day_key, (names, values, users, times, kinds, codes) in found:
            table = day_numbers(day_key, values)
            if table is None:
                return None
            amounts, valid, places = table
            keep = np.append(valid, False)[codes]  # code -1 (no value) reads the spare
            if event_type:
                keep &= kinds == _code(names, event_type)
            inside = within(times, start, end)
            if inside is not None:
                keep &= inside
            if keep.any():
                parts.append((users[keep], times[keep], amounts[codes[keep]], places))
        places = max((part[3] for part in parts), default=0)
        scaled = []
        for _, _, amounts, day_places in parts:
            factor = 10 ** (places - day_places)
            if factor > 1 and int(np.abs(amounts).max()) > INT64_MAX // factor:
                return None
            scaled.append(amounts * factor if factor > 1 else amounts)
        times = [part[1] for part in parts]
        return Columns(np.concatenate([np.empty(0, np.int64), *(p[0] for p in parts)]),
                       np.concatenate([np.empty(0, np.int64), *times]),
                       np.concatenate([np.empty(0, np.int32),
                                       *(self._day_slots(t) for t in times)]),
                       amounts=np.concatenate([np.empty(0, np.int64), *scaled]), places=places)

    def _day_slots(self, times: np.ndarray) -> np.ndarray:
        """The buckets of one packed day's events: a UTC day meets one or two local days (or
        weeks, months), so most days need one comparison, or none."""
        first, last = np.searchsorted(self.starts, [times.min(), times.max()], side="right") - 1
        if first == last:
            return np.full(len(times), first, np.int32)
        inner = self.starts[first + 1:last + 1]
        return (np.searchsorted(inner, times, side="right") + first).astype(np.int32)

    def _sql(self, events: Match, prop: str | None, props: tuple[str, ...],
             breakdown: str | None) -> Columns:
        """The series' events from PostgreSQL (with their properties' values)."""
        scope = self.scope
        limit = TIME_LIMIT.get()
        if limit and load.events_between(scope.project_id, scope.start, scope.end) > \
                limit * SQL_EVENTS_PER_MS:
            raise TooSlow()
        params: list = list(props)
        picks = "".join(", e.metadata->>%s" for _ in props)
        where = scope.sql("e", params) + " AND " + events.sql("e", params)
        rows = query(f"""SELECT (extract(epoch FROM e."timestamp") * 1000000)::int8, e.user_id
{picks} FROM event e WHERE {where}""", params)
        times = np.array([row[0] for row in rows], np.int64)
        users = _factorize([row[1] for row in rows])[1]
        coded = [_factorize([row[2 + i] for row in rows], keep_none=True)
                 for i in range(len(props))]
        found = Columns(users, times)
        for name, (values, codes) in zip(props, coded, strict=True):
            if name == prop:
                found.codes, found.values = codes, values
            if name == breakdown:
                found.groups, found.group_values = codes, values
        return found


def _code(names: tuple[str, ...], event_type: str) -> int:
    return names.index(event_type) if event_type in names else -1


def _factorize(items: list, keep_none: bool = False) -> tuple[tuple, np.ndarray]:
    """Distinct items (sorted) and each item's code; None is -1 with `keep_none`."""
    distinct = sorted({item for item in items if item is not None})
    index = {item: i for i, item in enumerate(distinct)}
    if keep_none:
        index[None] = -1
    return tuple(distinct), np.array([index[item] for item in items], np.int64)


DAY_NUMBERS: OrderedDict[tuple, tuple | None] = OrderedDict()  # by packed day, newest last
KEPT_DAYS = 256


def day_numbers(key: tuple, values: tuple[str, ...]
                ) -> tuple[np.ndarray, np.ndarray, int] | None:
    """A packed day's distinct values as numbers: each code's amount in 10**-places (0 for
    one that is no number), whether it is one, and places; kept by the day's build (its key in
    `memory.MEMORY`). None when they share no 64-bit scale."""
    if key in DAY_NUMBERS:
        DAY_NUMBERS.move_to_end(key)
        return DAY_NUMBERS[key]
    decimals = [numbers.number(v) for v in values]
    places = max([0, *(-d.as_tuple().exponent for d in decimals if d is not None)])
    found = None
    if places <= 18:
        whole = [numbers.whole(d, places) if d is not None else 0 for d in decimals]
        if all(-INT64_MAX <= w <= INT64_MAX for w in whole):
            found = (np.array(whole, np.int64), np.array([d is not None for d in decimals],
                                                         bool), places)
    DAY_NUMBERS[key] = found
    while len(DAY_NUMBERS) > KEPT_DAYS:
        DAY_NUMBERS.popitem(last=False)
    return found
