"""Group commit: concurrent requests of one sender share one queue write, waiting only when
it pays.

The idea is PostgreSQL's `commit_delay` with `commit_siblings`: a request waits for others only
while there is someone to wait for. A request that finds no write of its sender in flight
writes at once, alone. One that finds a write in flight opens a group, and later ones join it;
the group is written the moment the write ahead of it returns (that is when the requests the
write answers can come back, and when Redis is free for the next), or once as many events as
`target` are expected to have arrived at the current arrival rate, or when it holds
`max_events`. The window thus follows the load: nothing at one request at a time, a Redis
round trip under moderate load, the time `target` events take to arrive under heavy load.
Each request is answered only after its group's write has returned.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

ALONE, JOIN, LEAD = "alone", "join", "lead"


def cooperative() -> bool:
    """True under gevent, where many requests of one process can wait together."""
    try:
        from gevent import monkey
    except ImportError:
        return False
    return monkey.is_module_patched("socket")


@dataclass
class Policy:
    """The pure part: what an arriving request does, and how long a group may wait."""

    max_window: float = 0.010  # a group never waits longer than this for the write ahead
    target: int = 64  # events a group is meant to collect under heavy load
    smoothing: float = 0.2  # weight of the newest gap in the running mean of arrival gaps
    gap: float = 1.0  # seconds between arrivals (running mean)
    last: float | None = None

    def arrived(self, now: float, events: int = 1) -> None:
        """Follow the arrival rate (events per second), counting a request of n events as n
        arrivals."""
        if self.last is not None:
            seen = max(0.0, now - self.last) / max(1, events)
            self.gap += self.smoothing * (seen - self.gap)
        self.last = now

    @staticmethod
    def decide(forming: bool, writing: int) -> str:
        """Join a group still forming; write at once when no write is in flight; else lead a
        new group."""
        if forming:
            return JOIN
        return ALONE if writing == 0 else LEAD

    def window(self) -> float:
        """How long a new group waits at most for the write ahead of it: until `target` events
        are expected, never more than `max_window`."""
        return min(self.max_window, self.gap * self.target)


@dataclass
class Waiter:
    payload: list[dict]
    request_id: str | None
    done: threading.Event = field(default_factory=threading.Event)
    error: Exception | None = None


class Sender:
    """One group key's state: the group forming, and how many of its writes are in flight."""

    def __init__(self):
        self.group: list[Waiter] = []
        self.size = 0
        self.writing = 0
        self.idle = threading.Event()
        self.idle.set()


class GroupCommit:
    """Calls `publish(key, payload, request_ids)` once per group and wakes every waiter with
    its outcome (the same for the whole group)."""

    def __init__(self, publish, max_window: float = 0.010, target: int = 64,
                 max_events: int = 5000):
        self.publish, self.max_events = publish, max_events
        self.policy = Policy(max_window=max_window, target=target)
        self.senders: dict = {}
        self.lock = threading.Lock()

    def submit(self, key, payload: list[dict], request_id: str | None) -> None:
        """Returns once the payload is in the broker; raises what the publish raised."""
        waiter = Waiter(payload, request_id)
        with self.lock:
            self.policy.arrived(time.monotonic(), len(payload))
            sender = self.senders.get(key)
            if sender is None:
                sender = self.senders[key] = Sender()
            decision = self.policy.decide(bool(sender.group), sender.writing)
            sender.group.append(waiter)
            sender.size += len(payload)
            full = sender.size >= self.max_events
            window = self.policy.window()
        if decision == ALONE or full:
            self._flush(key, sender)
        elif decision == LEAD:
            sender.idle.wait(window)  # under gevent, other requests join the group meanwhile
            self._flush(key, sender)
        waiter.done.wait()
        if waiter.error is not None:
            raise waiter.error

    def _flush(self, key, sender: Sender) -> None:
        with self.lock:
            group, sender.group, sender.size = sender.group, [], 0
            if not group:
                return
            sender.writing += 1
            sender.idle.clear()
        payload = [event for waiter in group for event in waiter.payload]
        error = None
        try:
            self.publish(key, payload, [w.request_id for w in group])
        except Exception as exc:  # every request of the group gets the same answer
            error = exc
        finally:
            with self.lock:
                sender.writing -= 1
                if sender.writing == 0:
                    sender.idle.set()
                    if not sender.group:
                        self.senders.pop(key, None)
        for waiter in group:
            waiter.error = error
            waiter.done.set()
