"""A trend's measures over columns of events in memory (NumPy), per slot: a slot is a bucket of
time, or a bucket of one line of a breakdown (group x bucket), or a whole range.

Every pass is over whole arrays, with no per-event Python: counts by `bincount`, unique users and
distinct values by a bitmap per slot while one fits (else by sorting keys), order statistics by
one sort of (slot, rank of the value). Numbers come in as codes into the distinct values' table
(`Numbers`), so sums are exact: integers scaled by the table's decimal places while they fit in
64 bits, exact Python integers per distinct value otherwise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

import numpy as np

from webapp.reports import numbers

MEASURES = {"events": "events", "users": "unique users", "per_user": "events per user",
            "sum": "sum", "avg": "average", "min": "minimum", "max": "maximum",
            "median": "median", "p90": "90th percentile", "distinct": "distinct values"}
NUMERIC = ("sum", "avg", "min", "max", "median", "p90")
OF_PROPERTY = (*NUMERIC, "distinct")
NOT_CUMULATIVE = ("median", "p90")  # a running percentile would need every value again
QUANTILES = {"median": 0.5, "p90": 0.9}
BITMAP_CELLS = 64 * 2**20
INT64_MAX = 2**63 - 1


@dataclass(frozen=True)
class Numbers:
    """The numbers among a property's distinct values (by code): each code's decimal (None: not
    a number), its rank among them, and, when every one fits, its value times 10**places as a
    64-bit integer."""

    decimals: tuple[Decimal | None, ...]
    ranks: np.ndarray  # int64 per code; -1 for codes that are not numbers
    by_rank: tuple[Decimal, ...]
    scaled: np.ndarray | None
    places: int

    @classmethod
    def of(cls, values: tuple[str, ...]) -> Numbers:
        """The table of a property's distinct values (kept for the last few tables: a range's
        values change little from one commit to the next)."""
        found = KEPT.get(values)
        if found is None:
            found = KEPT[values] = cls._of(values)
            while len(KEPT) > 4:
                KEPT.pop(next(iter(KEPT)))
        return found

    @classmethod
    def _of(cls, values: tuple[str, ...]) -> Numbers:
        decimals = [numbers.number(v) for v in values]
        present = [i for i, d in enumerate(decimals) if d is not None]
        places = max((-decimals[i].as_tuple().exponent for i in present), default=0)
        places = max(places, 0)
        scaled = None
        if places <= 18:
            ints = [numbers.whole(d, places) if d is not None else 0 for d in decimals]
            if all(-INT64_MAX <= i <= INT64_MAX for i in ints):
                scaled = np.array(ints, np.int64)
        ranks = np.full(len(values), -1, np.int64)
        if scaled is not None:  # ordered as integers: exact, and without comparing decimals
            order = np.array(present, np.int64)[np.argsort(scaled[present], kind="stable")]
        else:
            order = np.array(sorted(present, key=decimals.__getitem__), np.int64)
        ranks[order] = np.arange(len(order))
        return cls(tuple(decimals), ranks, tuple(decimals[i] for i in order.tolist()), scaled,
                   places)


KEPT: dict[tuple[str, ...], Numbers] = {}


def _slot_counts(slot: np.ndarray, slots: int) -> np.ndarray:
    return np.bincount(slot, minlength=slots)[:slots].astype(np.int64)


def _distinct(slot: np.ndarray, slots: int, keys: np.ndarray) -> np.ndarray:
    """Distinct keys (non-negative integers) per slot."""
    if not len(keys):
        return np.zeros(slots, np.int64)
    low = int(keys.min())
    if low >= 0 and int(keys.max()) < BITMAP_CELLS // 2:
        low = 0  # numbers from 0 or 1 up: no offset to subtract
    span = int(keys.max()) - low + 1
    if slots * span <= BITMAP_CELLS:
        kind = np.int32 if slots * span < 2**31 else np.int64  # half the bytes to pass over
        at = np.multiply(slot, span, dtype=kind)
        at += keys if not low else keys - low
        seen = np.zeros(slots * span, bool)
        seen[at] = True
        return np.count_nonzero(seen.reshape(slots, span), axis=1).astype(np.int64)
    pairs = np.unique(slot.astype(np.int64) * span + (keys - low))
    return np.bincount(pairs // span, minlength=slots).astype(np.int64)


def _first_slots(slot: np.ndarray, shape: tuple[int, int], keys: np.ndarray) -> np.ndarray:
    """Cumulative distinct keys: per group, how many keys first appear in each bucket or
    before (slot = group * buckets + bucket)."""
    groups, width = shape
    if not len(keys):
        return np.zeros(groups * width, np.int64)
    group, bucket = slot // width, slot % width
    low = int(keys.min())
    span = int(keys.max()) - low + 1
    key = group * span + (keys - low)
    order = np.lexsort((bucket, key))
    key, bucket, group = key[order], bucket[order], group[order]
    first = np.r_[True, key[1:] != key[:-1]]
    counts = np.bincount(group[first] * width + bucket[first], minlength=groups * width)
    return np.cumsum(counts.reshape(groups, width), axis=1).reshape(-1)


def _sums(slot: np.ndarray, slots: int, amounts: np.ndarray) -> list[int]:
    """Per slot, the exact sum of whole numbers (amounts scaled to whole numbers)."""
    largest = int(np.abs(amounts).max()) * len(amounts) if len(amounts) else 0
    if largest < 2**53:  # every partial sum is a whole number a double holds exactly
        return [int(t) for t in np.bincount(slot, weights=amounts, minlength=slots)[:slots]]
    if largest <= INT64_MAX:
        totals = np.zeros(slots, np.int64)
        np.add.at(totals, slot, amounts)
        return totals.tolist()
    order = np.argsort(slot, kind="stable")  # Python's integers: no overflow at any size
    bounds = np.searchsorted(slot[order], np.arange(slots + 1))
    ordered = amounts[order].tolist()
    return [sum(ordered[bounds[i]:bounds[i + 1]]) for i in range(slots)]


def _fraction_sums(slot: np.ndarray, slots: int, codes: np.ndarray, table: Numbers) -> list:
    """Per slot, the exact sum of numbers that share no 64-bit scale (Decimal)."""
    pairs, counts = np.unique(slot.astype(np.int64) * len(table.decimals) + codes,
                              return_counts=True)
    sums = [Fraction(0)] * slots
    for pair, count in zip(pairs.tolist(), counts.tolist(), strict=True):
        at, code = divmod(pair, len(table.decimals))
        sums[at] += Fraction(table.decimals[code]) * count
    return [_decimal(s) for s in sums]


def _numbers(measure: str, slot: np.ndarray, shape: tuple[int, int], amounts: np.ndarray,
             places: int, cumulative: bool) -> list:
    """A measure of numbers given as whole numbers of 10**-places (every event here has one)."""
    slots = shape[0] * shape[1]
    counts = _slot_counts(slot, slots)
    if measure in ("sum", "avg"):
        sums = _sums(slot, slots, amounts)
        if cumulative:
            sums = _running(sums, shape, lambda a, b: a + b)
            counts = _cumsum(counts, shape)
        if measure == "sum":
            return [_scaled(int(total), places) for total in sums]
        return [Fraction(int(total), int(n) * 10**places) if n else None
                for total, n in zip(sums, counts, strict=True)]
    values = [None if key is None else _scaled(key, places)
              for key in _order_statistic(measure, slot, counts, amounts)]
    if cumulative:
        better = min if measure == "min" else max
        values = _running(values, shape, lambda a, b: better(a, b))
    return values


def _scaled(whole: int, places: int) -> Decimal:
    """whole / 10**places, written out (exact at any size: no context rounds it)."""
    return Decimal(f"{whole}e-{places}")


def _decimal(value: Fraction) -> Decimal:
    """A sum of decimals, itself a decimal, written out exactly."""
    places = 0
    while (value * 10**places).denominator != 1:
        places += 1
    return _scaled(int(value * 10**places), places)


def _order_statistic(measure: str, slot: np.ndarray, counts: np.ndarray, keys: np.ndarray
                     ) -> list[int | None]:
    """Per slot, the key (a number's amount or rank) that the minimum, maximum, median or
    90th percentile (as percentile_disc) picks; None for an empty slot."""
    order = np.lexsort((keys, slot))
    ranked = keys[order]
    begins = np.searchsorted(slot[order], np.arange(len(counts)), side="left")
    picked: list[int | None] = []
    for at, n in enumerate(counts.tolist()):
        if not n:
            picked.append(None)
        elif measure in ("min", "max"):
            picked.append(int(ranked[begins[at] + (0 if measure == "min" else n - 1)]))
        else:
            picked.append(int(ranked[begins[at] + max(0, math.ceil(QUANTILES[measure] * n) - 1)]))
    return picked


def compute(measure: str, slot: np.ndarray, shape: tuple[int, int], users: np.ndarray,
            codes: np.ndarray | None, table: Numbers | None, cumulative: bool = False,
            amounts: np.ndarray | None = None, places: int = 0) -> list:
    """The measure per slot (groups x buckets, in that order), exact: int, Decimal, Fraction
    or None (no value: an average of nothing). With `cumulative`, each bucket's value is
    that of its group's buckets up to and including it. Numbers come as codes into `table`,
    or already as `amounts`, whole numbers of 10**-places, one for each event (only events
    with a number are passed then)."""
    slots = shape[0] * shape[1]
    if measure in NUMERIC and amounts is not None:
        return _numbers(measure, slot, shape, amounts, places, cumulative)
    if measure in OF_PROPERTY:  # only events whose value is there (a number, for NUMERIC)
        keep = codes >= 0
        if measure != "distinct":
            keep &= np.append(table.ranks, -1)[codes] >= 0  # -1 (no value) reads the spare
        slot, users, codes = slot[keep], users[keep], codes[keep]
        if measure in NUMERIC and table.scaled is not None:
            return _numbers(measure, slot, shape, table.scaled[codes], table.places, cumulative)
    if measure == "events":
        counts = _slot_counts(slot, slots)
        return _cumsum(counts, shape).tolist() if cumulative else counts.tolist()
    if measure in ("users", "distinct"):
        keys = users if measure == "users" else codes
        found = _first_slots(slot, shape, keys) if cumulative else _distinct(slot, slots, keys)
        return found.tolist()
    if measure == "per_user":
        events = _slot_counts(slot, slots)
        people = _first_slots(slot, shape, users) if cumulative else _distinct(slot, slots, users)
        if cumulative:
            events = _cumsum(events, shape)
        return [Fraction(int(e), int(p)) if p else None for e, p in zip(events, people,
                                                                         strict=True)]
    # numbers that share no 64-bit scale: exact rationals, order by rank in the table
    counts = _slot_counts(slot, slots)
    if measure in ("sum", "avg"):
        sums = _fraction_sums(slot, slots, codes, table)
        if cumulative:
            sums = _running(sums, shape, lambda a, b: a + b)
            counts = _cumsum(counts, shape)
        if measure == "sum":
            return sums
        return [Fraction(s) / int(n) if n else None for s, n in zip(sums, counts, strict=True)]
    values = [None if rank is None else table.by_rank[rank]
              for rank in _order_statistic(measure, slot, counts, table.ranks[codes])]
    if cumulative:
        better = min if measure == "min" else max
        values = _running(values, shape, lambda a, b: better(a, b))
    return values


def _cumsum(counts: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    return np.cumsum(np.asarray(counts).reshape(shape), axis=1).reshape(-1)


def _running(values: list, shape: tuple[int, int], combine) -> list:
    """Each group's values combined with the ones before (None: nothing yet)."""
    out, width = [], shape[1]
    for at, value in enumerate(values):
        before = out[-1] if at % width else None
        out.append(value if before is None else before if value is None else
                   combine(before, value))
    return out
