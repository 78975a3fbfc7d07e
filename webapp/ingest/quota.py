"""Shares of a sender's rate limit taken ahead, so that /webhook asks Redis once per share
rather than once per group of requests.

A web process takes a share of 1% of a limit's amount from the shared limiter (flask-limiter's
`limits` strategy on Redis) and admits from it locally until it is spent or a tenth of the
window has passed. A small limit (under 100) gets shares of one: exact counting. The cost is
that what a process took and did not use counts as used: with a few web processes, a sender
is refused up to a few percent early; what a process admits is never more than it took.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from limits import RateLimitItem

SHARE = 0.01  # of a limit's amount a process takes at once
HOLD = 0.1  # of a limit's window a share may be used for


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
