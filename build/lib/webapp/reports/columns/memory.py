"""Decoded packed days kept in a worker's memory between reports, and their merge.

The workers, which compute the long reports, keep the days they read (`MEMORY`, least recently
used out first, within a budget of bytes), and the merge of all but a range's newest day: after
a commit to today, only today is merged into the kept ones. A web process keeps nothing.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from webapp.reports.events import Events


class Memory:
    """Decoded packed days kept in this process (the workers, which compute the long
    reports), least recently used out first, within a budget of bytes (0: none kept)."""

    def __init__(self):
        self.budget, self.size = 0, 0
        self.items: OrderedDict[tuple, tuple] = OrderedDict()

    def get(self, key: tuple) -> tuple | None:
        found = self.items.get(key)
        if found is not None:
            self.items.move_to_end(key)
        return found

    def put(self, key: tuple, value: tuple) -> None:
        size = self._size(value)
        if size > self.budget:
            return
        stale = [k for k in self.items if k[:4] == key[:4]]  # older builds of the same day
        for k in stale:
            self.size -= self._size(self.items.pop(k))
        self.items[key] = value
        self.size += size
        self.shrink()

    def shrink(self) -> None:
        """Let the least recently used days go until the rest fit the budget."""
        while self.size > self.budget:
            self.size -= self._size(self.items.popitem(last=False)[1])

    @staticmethod
    def _size(value: tuple) -> int:
        return sum(part.nbytes for part in value if isinstance(part, np.ndarray))


MEMORY = Memory()


def keep_in_memory(megabytes: int) -> None:
    """Let this process keep up to `megabytes` of decoded packed days between reports."""
    MEMORY.budget = megabytes * 2**20
    MEMORY.shrink()


def recode(lists: list[tuple[str, ...]], codes: list[np.ndarray], kind
           ) -> tuple[tuple[str, ...], np.ndarray]:
    """Days' codes into their own lists of names, as codes into one sorted list of all the
    names (code -1, no name, stays -1)."""
    names = tuple(sorted({name for day in lists for name in day}))
    index = {name: i for i, name in enumerate(names)}
    recoded = [np.array([index[name] for name in day] + [-1], kind)[day_codes]
               for day, day_codes in zip(lists, codes, strict=True)]  # -1 takes the last: -1
    return names, np.concatenate([np.empty(0, kind), *recoded])


def merge(rows: list[tuple]) -> Events:
    """Days in order, each sorted by user: one stable sort by user (a merge of sorted runs)
    leaves every user's events in time order."""
    if not rows:
        return Events.empty()
    names, kinds = recode([row[0] for row in rows], [row[3] for row in rows], np.int16)
    users = np.concatenate([row[1] for row in rows])
    keys = users.astype(np.int32) if users.max() < 2**31 else users  # half the bytes to sort
    order = np.argsort(keys, kind="stable")
    return Events(users[order], np.concatenate([row[2] for row in rows])[order], kinds[order],
                  names)


def merge_kept(rows: list[tuple[tuple, tuple]]) -> Events:
    """`merge` of fetched days (key, value), keeping in this process's memory the merge of
    all but the newest day: after a commit to the newest day (live traffic touches today),
    only that day is merged into the kept ones, not the whole range sorted again."""
    size = sum(part.nbytes for _, value in rows[:-1] for part in value[1:])  # of their merge
    if len(rows) < 3 or size > MEMORY.budget:  # it would not be kept: one merge of them all
        return merge([value for _, value in rows])
    *older, (_, newest) = rows
    first = older[0][0]
    key = ("merged", *first[1:4], tuple(k[3:] for k, _ in older))  # one kept merge a start
    kept = MEMORY.get(key)
    if kept is None:
        base = merge([value for _, value in older])
        MEMORY.put(key, (base.users, base.times, base.kinds, base.names))
    else:
        base = Events(*kept)
    return _append(base, merge([newest]))


def _append(base: Events, later: Events) -> Events:
    """Events sorted by user, each user's later than all of theirs in `base`, merged in."""
    names, kinds = base.names, base.kinds
    extra = later.kinds
    if later.names != names:
        names, both = recode([base.names, later.names], [base.kinds, later.kinds], np.int16)
        kinds, extra = both[:len(base)], both[len(base):]
    at = np.searchsorted(base.users, later.users, side="right")  # after the user's own
    return Events(np.insert(base.users, at, later.users), np.insert(base.times, at, later.times),
                  np.insert(kinds, at, extra), names)
