"""A report's events as columns in memory (NumPy): what the packed days load into
(`webapp.reports.columns`) and the engine's passes run over (`webapp.reports.engine`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

NO_CODE = -1
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DAY_US = 86_400 * 1_000_000


@dataclass(frozen=True)
class Events:
    """Events sorted by (user, timestamp, storage id): `users` (int64 numbers, one per user of
    the project), `times` (int64 microseconds since 1970 UTC), `kinds` (int16 index into
    `names`, the event types)."""

    users: np.ndarray
    times: np.ndarray
    kinds: np.ndarray
    names: tuple[str, ...]

    @classmethod
    def empty(cls) -> Events:
        return cls(np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.int16), ())

    def __len__(self) -> int:
        return len(self.times)

    def code(self, name: str | None) -> int:
        """The code of an event type (NO_CODE when no event has it)."""
        try:
            return self.names.index(name)
        except ValueError:
            return NO_CODE

    def between(self, start_us: int | None, end_us: int | None) -> Events:
        return self.where(within(self.times, start_us, end_us))

    def where(self, keep: np.ndarray | None) -> Events:
        """The events `keep` marks (all of them for None)."""
        if keep is None:
            return self
        return Events(self.users[keep], self.times[keep], self.kinds[keep], self.names)

    def of(self, event_type: str | None) -> np.ndarray:
        """Which events have this type (every event for None)."""
        if event_type is None:
            return np.ones(len(self), bool)
        return self.kinds == self.code(event_type)

    def firsts(self) -> np.ndarray:
        """Whether each event is its user's first."""
        first = np.ones(len(self), bool)
        first[1:] = self.users[1:] != self.users[:-1]
        return first


def within(times: np.ndarray, start_us: int | None, end_us: int | None) -> np.ndarray | None:
    """Which times lie in [start_us, end_us) (None bounds: unbounded); None when all do, as
    when a range of whole days was read (no copy of the arrays is needed then)."""
    if not len(times) or ((start_us is None or times.min() >= start_us) and
                          (end_us is None or times.max() < end_us)):
        return None
    keep = np.ones(len(times), bool)
    if start_us is not None:
        keep &= times >= start_us
    if end_us is not None:
        keep &= times < end_us
    return keep


def micros(delta: timedelta) -> int:
    """A duration in microseconds, exactly."""
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def instant_us(moment: datetime) -> int:
    """Microseconds since 1970 UTC, exactly."""
    return (moment - EPOCH) // timedelta(microseconds=1)


def run_starts(sorted_keys: np.ndarray) -> np.ndarray:
    """Where each run of equal keys begins, in an array sorted by key."""
    return np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
