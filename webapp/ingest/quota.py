"""Shares of a sender's rate limit taken ahead, so that /webhook asks Redis once per share
rather than once per group of requests.

A web process takes a share of 1% of a limit's amount from the shared limiter (flask-limiter's
`limits` strategy on Redis) and admits from it locally until it is spent or a tenth of the
window has passed. A small limit (under 100) gets shares of one: exact counting. The cost is
that what a process took and did not use counts as used: with a few web processes, a sender
is refused up to a few percent early; what a process admits is never more than it took.
"""

from __future__ import annotations

import functools
import re
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse_many

SHARE = 0.01  # of a limit's amount a process takes at once
HOLD = 0.1  # of a limit's window a share may be used for
MAX_AMOUNT = 1_000_000_000  # in one window
MAX_PERIOD = 24 * 3600  # seconds: a longer window is a quota, not a rate
ZERO_PERIOD = re.compile(r"(?:/|per)\s*0+\s*[a-z]", re.IGNORECASE)  # `limits` reads as 1


@functools.lru_cache(maxsize=256)
def parsed(text: str) -> tuple[RateLimitItem, ...]:
    return tuple(parse_many(text))


@functools.lru_cache(maxsize=1024)
def problem(text: str) -> str | None:
    """Why `text` is not a usable limit (flask-limiter notation, at most 200 characters, each
    part an amount of 1 to MAX_AMOUNT per a period of 1 second to a day); None when it is.
    A count of 0 would refuse everything (and divide by zero working out Retry-After); a
    period past what Redis can expire would never be counted at all."""
    if len(text) > 200:
        return "is longer than 200 characters"
    try:
        items = parsed(text)
    except ValueError:
        return "is not a limit"
    if not items:
        return "is not a limit"
    if any(item.amount < 1 for item in items):
        return "allows no request at all: the count must be at least 1"
    if any(item.amount > MAX_AMOUNT for item in items):
        return f"counts past {MAX_AMOUNT:,} in one window"
    if ZERO_PERIOD.search(text):
        return "has a period of 0"
    if any(item.get_expiry() > MAX_PERIOD for item in items):
        return "has a period longer than a day"
    return None


@dataclass
class Share:
    left: int
    until: float


class Quota:
    """One process's shares, per (limit, scope, sender); `hit` answers like the strategy's."""

    def __init__(self, strategy):
        self.strategy = strategy
        self.shares: dict[tuple, Share] = {}

    def hit(self, item: RateLimitItem, scope: str, sender: str, cost: int,
            now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        key = (item, scope, sender)
        share = self.shares.get(key)
        left = share.left if share is not None and share.until > now else 0
        if left >= cost:
            share.left -= cost
            return True
        need = cost - left  # what is left of the share counts towards this cost
        size = max(need, int(item.amount * SHARE))
        if not self.strategy.hit(item, scope, sender, cost=size):
            if size == need or not self.strategy.hit(item, scope, sender, cost=need):
                return False  # near the limit: no share, and not even this much
            size = need
        if len(self.shares) > 10_000:
            self.shares.clear()
        self.shares[key] = Share(size - need, now + item.get_expiry() * HOLD)
        return True
