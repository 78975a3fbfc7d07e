"""Shares of a rate limit: fewer trips to the shared limiter, never more admitted than taken."""

from __future__ import annotations

from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import SlidingWindowCounterRateLimiter

from webapp.ingest.quota import Quota


class Counting(SlidingWindowCounterRateLimiter):
    """The real strategy on the library's in-memory storage, counting the calls made to it."""

    def __init__(self):
        super().__init__(MemoryStorage())
        self.calls = 0

    def hit(self, *args, **kwargs):
        self.calls += 1
        return super().hit(*args, **kwargs)


def test_a_large_limit_is_taken_in_shares_of_one_percent():
    strategy = Counting()
    quota = Quota(strategy)
    item = parse("10000 per 10 seconds")
    assert all(quota.hit(item, "s", "k", 1, now=0.0) for _ in range(250))
    assert strategy.calls == 3  # 100 at a time
    assert strategy.get_window_stats(item, "s", "k").remaining == 10000 - 300


def test_a_share_lasts_a_tenth_of_the_window():
    strategy = Counting()
    quota = Quota(strategy)
    item = parse("10000 per 10 seconds")
    quota.hit(item, "s", "k", 1, now=0.0)
    quota.hit(item, "s", "k", 1, now=0.9)
    assert strategy.calls == 1
    quota.hit(item, "s", "k", 1, now=1.1)
    assert strategy.calls == 2


def test_a_small_limit_or_a_large_cost_is_counted_exactly():
    strategy = Counting()
    quota = Quota(strategy)
    small = parse("3 per minute")
    assert [quota.hit(small, "s", "k", 1, now=0.0) for _ in range(4)] == [True] * 3 + [False]
    assert strategy.calls == 4
    large = parse("1000 per minute")
    assert quota.hit(large, "s", "k", 600, now=0.0) is True
    assert quota.hit(large, "s", "k", 600, now=0.0) is False
    assert strategy.get_window_stats(large, "s", "k").remaining == 400


def test_near_the_limit_what_still_fits_is_admitted_exactly():
    strategy = Counting()
    quota = Quota(strategy)
    item = parse("1000 per minute")  # shares of 10
    admitted = sum(quota.hit(item, "s", "k", 3, now=0.0) for _ in range(400))
    assert admitted == 333  # a share's rest counts towards the next cost
    # senders and scopes have their own shares
    assert quota.hit(item, "s", "other", 3, now=0.0) and quota.hit(item, "t", "k", 3, now=0.0)
