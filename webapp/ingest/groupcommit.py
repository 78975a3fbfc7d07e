"""Group commit: concurrent requests wait a few milliseconds and share one Celery message."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

log = logging.getLogger(__name__)


def cooperative() -> bool:
    """True under gevent, where many requests of one process can wait together."""
    try:
        from gevent import monkey
    except ImportError:
        return False
    return monkey.is_module_patched("socket")


@dataclass
class Waiter:
    payload: list[dict]
    request_id: str | None
    done: threading.Event = field(default_factory=threading.Event)
    error: Exception | None = None


class GroupCommit:
    """Collects payloads per group key (project and sender) for `window` seconds (or until
    `max_events`), then calls `publish(key, payload, request_ids)` once and wakes every waiter
    with its outcome."""

    def __init__(self, publish, window: float = 0.002, max_events: int = 5000):
        self.publish, self.window, self.max_events = publish, window, max_events
        self.pending: dict = {}
        self.sizes: dict = {}
        self.lock = threading.Lock()

    def submit(self, project_id, payload: list[dict], request_id: str | None) -> None:
        """Returns once the payload is in the broker; raises what the publish raised."""
        waiter = Waiter(payload, request_id)
        with self.lock:
            group = self.pending.setdefault(project_id, [])
            group.append(waiter)
            self.sizes[project_id] = self.sizes.get(project_id, 0) + len(payload)
            leader = len(group) == 1
            full = self.sizes[project_id] >= self.max_events
        if full:
            self._flush(project_id)
        elif leader:
            time.sleep(self.window)  # under gevent, other requests join the group meanwhile
            self._flush(project_id)
        waiter.done.wait()
        if waiter.error is not None:
            raise waiter.error

    def _flush(self, project_id) -> None:
        with self.lock:
            group = self.pending.pop(project_id, [])
            self.sizes.pop(project_id, None)
        if not group:
            return
        payload = [event for waiter in group for event in waiter.payload]
        error = None
        try:
            self.publish(project_id, payload, [w.request_id for w in group])
        except Exception as exc:  # every request of the group gets the same answer
            error = exc
        for waiter in group:
            waiter.error = error
            waiter.done.set()
