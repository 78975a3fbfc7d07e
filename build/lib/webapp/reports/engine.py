"""Funnels, paths, retention and breakdowns computed over columns of events in memory (NumPy).

The reports' SQL reads every event of its range row by row, sorts them by user and joins them
with themselves: at 10M events that takes tens of seconds on two cores. Here the same
definitions run over three arrays (user number, microseconds, type code) already sorted by
user, time and storage id (see `webapp.reports.columns`), as a handful of passes over whole
arrays, with no per-event Python. Each function gives exactly what its SQL gives; the
property tests check both against the same plain-Python model.

The four passes (funnels, paths, retention, breakdowns) stay in one module of about 330
lines: each is a section of its own over the same `Events` (`webapp.reports.events`), and
they are read, and checked by the property tests, side by side with their SQL.
"""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np

from webapp.reads.ranges import day_start
from webapp.reports.events import DAY_US, EPOCH, NO_CODE, Events, instant_us, micros, run_starts

BITMAP_CELLS = 64 * 2**20  # a breakdown's users per value in one pass while this fits (bytes)


# ---- funnels --------------------------------------------------------------------------------

def funnel(events: Events, steps: tuple[str, ...], window: timedelta, strict: bool
           ) -> tuple[list[int], list[list[float] | None]]:
    """Users reaching at least each step, and per later step the median and p90 seconds from
    the first step (percentile_disc) of those who reached it: [None] for the first step.

    An attempt starts at every event of the first step; each later step is the user's next
    event of that step (strict: the very next event of any step), within `window` of the
    first. A user counts at the furthest step any attempt reaches, with the earliest such
    attempt's times."""
    k = len(steps)
    codes = [events.code(step) for step in steps]
    if not strict:
        return _ordered(events, codes, window)
    wanted = np.zeros(len(events.names) + 1, bool)  # by code; NO_CODE (-1) is the last
    wanted[codes] = True
    wanted[NO_CODE] = False
    relevant = np.flatnonzero(wanted[events.kinds])
    users, times, kinds = (events.users[relevant], events.times[relevant],
                           events.kinds[relevant])
    masks = [kinds == code for code in codes]  # NO_CODE matches nothing
    n = len(relevant)
    starts = np.flatnonzero(masks[0])
    if not len(starts):
        return [0] * k, [None] * k
    start_user, start_time = users[starts], times[starts]
    limit = start_time + micros(window)
    level = np.ones(len(starts), np.int8)
    reached = [np.zeros(len(starts), np.int64) for _ in range(k)]  # microseconds to step j
    live, position = np.arange(len(starts)), starts  # the attempts still going, and where
    for j in range(1, k):
        following = position + 1
        candidate = np.minimum(following, n - 1)
        ok = (following < n) & masks[j][candidate]
        ok &= (users[candidate] == start_user[live]) & (times[candidate] <= limit[live])
        live, position = live[ok], candidate[ok]
        level[live] += 1
        reached[j][live] = times[position] - start_time[live]
    chosen = _earliest_furthest(start_user, level)
    return _summary(level[chosen], [r[chosen] for r in reached])


def _ordered(events: Events, codes: list[int], window: timedelta
             ) -> tuple[list[int], list[list[float] | None]]:
    """`funnel` in ordered mode, over blocks of attempts rather than every attempt.

    Attempts of one user with no event of step 2 between them (a block) go on through the
    same events: the next event of step 2 after any of them is the same, and so is each
    following step's. They differ only in how far their windows reach, so the block's last
    attempt reaches furthest, and the earliest attempt reaching as far is the first whose
    window still holds the furthest step's event. The steps are followed once per block."""
    k = len(codes)
    kinds, users, times = events.kinds, events.users, events.times
    n = len(kinds)
    starts = np.flatnonzero(kinds == codes[0]) if codes[0] != NO_CODE else np.empty(0, int)
    if not len(starts):
        return [0] * k, [None] * k
    # per later step: where its events are, and how many lie at or before each position
    kind = np.int32 if n < 2**31 - 1 else np.int64  # half the memory to pass over
    places, seen = [starts], [None]
    for code in codes[1:]:
        mask = kinds == code if code != NO_CODE else np.zeros(n, bool)
        places.append(np.flatnonzero(mask))
        seen.append(np.cumsum(mask, dtype=kind))
    start_user = users[starts]
    before = seen[1][starts]
    new_block = np.r_[True, (before[1:] != before[:-1]) | (start_user[1:] != start_user[:-1])]
    block = np.cumsum(new_block) - 1
    last = np.flatnonzero(np.r_[new_block[1:], True])  # each block's last attempt
    lead, lead_user = starts[last], start_user[last]
    limit = times[lead] + micros(window)
    level = np.ones(len(lead), np.int8)
    when = [times[lead]] + [np.zeros(len(lead), np.int64) for _ in range(1, k)]  # step times
    live, position = np.arange(len(lead)), lead
    for j in range(1, k):
        if not len(places[j]):
            break
        count = seen[j][position]  # events of step j up to here: the next is places[j][count]
        found = count < len(places[j])
        candidate = places[j][np.minimum(count, len(places[j]) - 1)]  # the next one after
        ok = found & (users[candidate] == lead_user[live]) & (times[candidate] <= limit[live])
        live, position = live[ok], candidate[ok]
        level[live] += 1
        when[j][live] = times[position]
    # in each block, the first attempt whose window holds the block's furthest step
    furthest = np.choose(level - 1, when) if k > 1 else when[0]
    needed = np.where(level > 1, furthest - micros(window), np.iinfo(np.int64).min)
    holds = np.flatnonzero(times[starts] >= needed[block])
    first = holds[run_starts(block[holds])]  # one per block, in block order
    chosen_block = _earliest_furthest(lead_user, level)
    attempt = starts[first[chosen_block]]
    levels = level[chosen_block]
    reached = [np.where(levels > j, w[chosen_block] - times[attempt], 0) for j, w in
               enumerate(when)]
    return _summary(levels, reached)


def _earliest_furthest(owner: np.ndarray, level: np.ndarray) -> np.ndarray:
    """Of attempts in order (grouped by user, `owner`), each user's earliest attempt among
    those reaching the user's furthest level."""
    new_user = np.r_[True, owner[1:] != owner[:-1]]
    group = np.cumsum(new_user) - 1
    best = np.maximum.reduceat(level, np.flatnonzero(new_user))
    candidates = np.flatnonzero(level == best[group])  # attempts in order of position
    return candidates[run_starts(group[candidates])]  # each user's first


def _summary(levels: np.ndarray, reached: list[np.ndarray]
             ) -> tuple[list[int], list[list[float] | None]]:
    """Users at or beyond each step, and the median and p90 seconds to each later step of
    those who reached it (`reached[j]`, microseconds, per user)."""
    k = len(reached)
    counts = [int(np.count_nonzero(levels >= i + 1)) for i in range(k)]
    quantiles: list[list[float] | None] = [None]
    for j in range(1, k):
        seconds = np.sort(reached[j][levels > j]) / 1_000_000
        quantiles.append([float(seconds[_disc(len(seconds), f)]) for f in (0.5, 0.9)]
                         if len(seconds) else None)
    return counts, quantiles


def _disc(count: int, fraction: float) -> int:
    """The index percentile_disc takes in `count` sorted values."""
    return max(0, math.ceil(fraction * count) - 1)


# ---- paths ----------------------------------------------------------------------------------

def paths(events: Events, anchor: str, after: bool, depth: int, top: int
          ) -> tuple[int, list[tuple[tuple[str, ...], int]]]:
    """Users with the anchor event, and the `top` most common walks from each user's first
    anchor onwards (`after`) or back from the last one, with consecutive repeats of a type
    collapsed, up to `depth` events beside the anchor: (walk, users), most users first, then
    in order of the walk."""
    n = len(events)
    anchored = np.flatnonzero(events.of(anchor))
    if not len(anchored):
        return 0, []
    users, kinds = events.users, events.kinds
    user_starts = np.flatnonzero(events.firsts())
    owners = users[anchored]
    if after:  # each user's first anchor, and where that user's events end
        pick = anchored[np.r_[True, owners[1:] != owners[:-1]]]
        bound = np.append(user_starts, n)[np.searchsorted(user_starts, pick, side="right")]
    else:  # each user's last anchor, and where that user's events begin
        pick = anchored[np.r_[owners[1:] != owners[:-1], True]]
        bound = user_starts[np.searchsorted(user_starts, pick, side="right") - 1]
    # runs of one type in a row: a walk steps from run to run
    runs = np.flatnonzero(np.r_[True, kinds[1:] != kinds[:-1]])
    width = depth + 1
    steps = np.full((len(pick), width), -1, np.int64)  # from the anchor outwards
    steps[:, 0] = kinds[pick]
    length = np.ones(len(pick), np.int64)
    live, current = np.arange(len(pick)), pick
    for column in range(1, width):
        if after:  # the start of the next run
            index = np.searchsorted(runs, current, side="right")
            step = np.append(runs, n)[index]
            ok = step < bound[live]
        else:  # the last event of the run before: one before the start of this one
            step = runs[np.searchsorted(runs, current, side="right") - 1] - 1
            ok = step >= bound[live]
        live, current = live[ok], step[ok]
        steps[live, column] = kinds[current]
        length[live] += 1
    table = steps
    if not after:  # the walk reads forwards, ending at the anchor
        table = np.full_like(steps, -1)
        rows, columns = np.nonzero(steps >= 0)
        table[rows, length[rows] - 1 - columns] = steps[rows, columns]
    walks, counts = _unique_rows(table, len(events.names))
    if len(counts) > top:  # only walks that can be among the top need their names sorted
        floor = np.partition(counts, len(counts) - top)[len(counts) - top]
        walks, counts = walks[counts >= floor], counts[counts >= floor]
    named = [(tuple(events.names[c] for c in walk if c >= 0), int(count))
             for walk, count in zip(walks, counts, strict=True)]
    named.sort(key=lambda item: (-item[1], item[0]))
    return len(pick), named[:top]


def _unique_rows(table: np.ndarray, codes: int) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows of a table of codes (-1 to codes - 1) and how often each occurs; rows
    that fit in 63 bits are compared as one number each."""
    bits = max(1, int(codes).bit_length())
    if bits * table.shape[1] > 63:
        return np.unique(table, axis=0, return_counts=True)
    keys = np.zeros(len(table), np.int64)
    for column in table.T:
        keys = (keys << bits) | (column + 1)
    found, counts = np.unique(keys, return_counts=True)
    mask = (1 << bits) - 1
    rows = np.stack([(found >> (bits * (table.shape[1] - 1 - i))) & mask
                     for i in range(table.shape[1])], axis=1) - 1
    return rows, counts


# ---- retention ------------------------------------------------------------------------------

def local_days(times: np.ndarray, first: date, last: date, zone: str
               ) -> tuple[np.ndarray, date]:
    """The local date of each instant (between `first` and `last` in `zone`) as days since
    `first`; instants before `first` get -1, those after `last` the day after it. Only the
    starts of dates an instant can fall on are computed: its UTC date or one either side
    (offsets are under a day), so a range of empty days costs nothing."""
    if not len(times):
        return np.empty(0, np.int64), first
    span = (last - first).days + 1  # the day after `last`
    utc = np.unique(times // DAY_US) - (first - EPOCH.date()).days
    near = np.unique(np.clip(np.concatenate([utc - 1, utc, utc + 1]), 0, span))
    starts = np.array([instant_us(day_start(first + timedelta(days=int(i)), zone))
                       for i in near], np.int64)
    found = np.searchsorted(starts, times, side="right") - 1  # the latest start at or before
    return np.where(found >= 0, near[np.maximum(found, 0)], -1), first


def retention(events: Events, start_us: int, end_us: int, born_type: str | None,
              back_type: str | None, week: bool, periods: int, on_or_after: bool,
              zone: str, first: date, last: date, shown: int
              ) -> list[tuple[date, int, list[int]]]:
    """(cohort, users, count per period) per cohort, in order; `events` holds every event of
    the project before `end_us`. A user is born at their first event of `born_type`; only
    births in [start_us, end_us) count, in the cohort of their local day or week (`first` and
    `last` bound the local dates of the range). Returns count from the birth instant to
    `end_us`; period N is the Nth day or week after the cohort's. "on_or_after" counts users
    whose last return is N or later."""
    is_born = events.of(born_type)
    births = np.flatnonzero(is_born)
    if not len(births):
        return []
    births = births[np.r_[True, events.users[births[1:]] != events.users[births[:-1]]]]
    born_at = events.times[births]
    inside = (born_at >= start_us) & (born_at < end_us)
    births, born_at = births[inside], born_at[inside]
    if not len(births):
        return []
    step = 7 if week else 1
    born_day, _ = local_days(born_at, first, last, zone)
    cohort = _bucket(born_day, first, week)
    # each event's born user (-1 for the others)
    owner_group = np.cumsum(events.firsts()) - 1
    member_of_group = np.full(owner_group[-1] + 1, -1, np.int64)
    member_of_group[owner_group[births]] = np.arange(len(births))
    member = member_of_group[owner_group]
    back = (member >= 0) & events.of(back_type) & (events.times < end_us)
    back &= events.times >= np.where(member >= 0, born_at[np.maximum(member, 0)], 0)
    who = member[back]
    day, _ = local_days(events.times[back], first, last, zone)
    period = (_bucket(day, first, week) - cohort[who]) // step
    # events are in user order, and births too: `who` never decreases
    bits = np.zeros(len(births), np.int64)
    latest = np.full(len(births), -1, np.int64)
    if len(who):
        runs = run_starts(who)
        shown_bit = np.where(period < shown, np.left_shift(1, np.minimum(period, shown - 1)), 0)
        bits[who[runs]] = np.bitwise_or.reduceat(shown_bit, runs)
        latest[who[runs]] = np.maximum.reduceat(period, runs)
    cohorts, slot = np.unique(cohort, return_inverse=True)
    rows = []
    for index, value in enumerate(cohorts):
        in_cohort = slot == index
        if on_or_after:
            counts = [int(np.count_nonzero(latest[in_cohort] >= p)) for p in range(periods)]
        else:
            counts = [int(np.count_nonzero(bits[in_cohort] & (1 << p))) for p in range(periods)]
        rows.append((first + timedelta(days=int(value)), int(np.count_nonzero(in_cohort)),
                     counts))
    return rows


def _bucket(day: np.ndarray, first: date, week: bool) -> np.ndarray:
    """Days since `first` of each day's bucket: the day itself, or its week's Monday."""
    if not week:
        return day
    return day - (day + first.weekday()) % 7


# ---- breakdowns -----------------------------------------------------------------------------

def breakdown(users: np.ndarray, codes: np.ndarray, values: tuple[str, ...], limit: int
              ) -> tuple[int, list[tuple[str | None, int, int]]]:
    """The events' total, and the `limit` most common values (code -1: no value) with their
    events and unique users: most events first, then by value, no value last."""
    total = len(codes)
    if not total:
        return 0, []
    counts = np.bincount(codes + 1, minlength=len(values) + 1)  # slot 0: no value
    present = np.flatnonzero(counts)
    ranked = present[np.lexsort((present, present == 0, -counts[present]))][:limit]
    span = int(users.max() - users.min()) + 1
    offset = users - users.min()
    if (len(ranked) + 1) * span <= BITMAP_CELLS:  # one bitmap row per ranked value, one pass
        row = np.full(len(values) + 1, len(ranked), np.int64)  # unranked values: a spare row
        row[ranked] = np.arange(len(ranked))
        seen = np.zeros((len(ranked) + 1, span), bool)
        seen.reshape(-1)[row[codes + 1] * span + offset] = True
        uniques = np.count_nonzero(seen[:-1], axis=1)
    else:  # a bitmap at a time
        seen = np.zeros(span, bool)
        uniques = []
        for slot in ranked:
            seen[:] = False
            seen[offset[codes == slot - 1]] = True
            uniques.append(np.count_nonzero(seen))
    return total, [(values[slot - 1] if slot else None, int(counts[slot]), int(unique))
                   for slot, unique in zip(ranked, uniques, strict=True)]
