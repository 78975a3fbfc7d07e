"""The ingest journal: every batch answered 202 is kept in Redis until a worker has committed it.

Celery's Redis transport takes a message off the queue with BRPOP and only afterwards records
it as unacknowledged. A worker killed between the two (or holding a popped reply it has no
room for yet) loses the message: it is in neither the queue nor the unacknowledged set, so the
visibility timeout never brings it back. The journal closes that gap:

- the web process writes the batch here and the small Celery message naming it to the queue
  in one MULTI (payload, time, message, counters), and answers 202 only after it;
- the worker reads the batch from here, commits it, and only then forgets it;
- a sweeper in every worker re-publishes batches older than a grace period that no message in
  the queue or in the unacknowledged set names any more, after seeing them missing twice.

A re-published batch that was in fact stored inserts nothing: events are unique per project and
event id, and rollups count only the rows inserted.
"""

from __future__ import annotations

import logging
import time
import uuid

import orjson
from redis import Redis

from webapp.ops import metrics

log = logging.getLogger(__name__)

BATCHES = "pulseboard:journal:batches"  # batch id -> {"p": project, "e": events, "r": request ids}
DUE = "pulseboard:journal:due"  # batch ids scored by the time they were (re)published
SWEEP_LOCK = "pulseboard:journal:sweeping"
RESENT = "journal_resent"  # counter in the metrics hash
QUEUE_SCAN_LIMIT = 200_000  # a longer queue is a backlog: wait for it rather than read it all


def new_batch_id() -> str:
    return uuid.uuid4().hex


def write(redis: Redis, batch_id: str, project_id: int, events: list[dict],
          request_ids: list, message: tuple[str, bytes] | None = None) -> None:
    """Keep a batch until a worker commits it and, given `message` (queue, bytes), queue the
    message naming it and count the events, all in one transaction (raises the Redis error
    when Redis cannot: then none of it happened)."""
    pipe = redis.pipeline(transaction=True)
    pipe.hset(BATCHES, batch_id, orjson.dumps({"p": project_id, "e": events, "r": request_ids}))
    pipe.zadd(DUE, {batch_id: time.time()})
    if message is not None:
        queue, raw = message
        pipe.lpush(queue, raw)
        metrics.accepted(pipe, len(events))
    pipe.execute()


def read(redis: Redis, batch_id: str) -> dict | None:
    """The batch, or None once it has been committed (a later delivery of the same message)."""
    data = redis.hget(BATCHES, batch_id)
    return None if data is None else orjson.loads(data)


def forget(redis: Redis, batch_id: str) -> None:
    """Drop a committed batch (`redis` may be a pipeline, which the caller executes)."""
    redis.hdel(BATCHES, batch_id)
    redis.zrem(DUE, batch_id)


def pending(redis: Redis) -> int:
    return redis.zcard(DUE)


def _task_id(raw: bytes | str) -> str | None:
    try:
        message = orjson.loads(raw)
        if isinstance(message, list):  # an unacknowledged entry: [message, exchange, key]
            message = message[0]
        return message["headers"]["id"]
    except (orjson.JSONDecodeError, KeyError, TypeError, IndexError):
        return None


def in_flight(redis: Redis, queues: list[str], unacked_key: str) -> set[str] | None:
    """Task ids of every message waiting in `queues` or taken but not yet acknowledged; None
    when a queue is too long to read (a backlog, whose batches are not lost but waiting)."""
    ids: set[str] = set()
    for queue in queues:  # the queues first: a message moves from there to the unacked set
        if redis.llen(queue) > QUEUE_SCAN_LIMIT:
            return None
        ids.update(_task_id(raw) for raw in redis.lrange(queue, 0, -1))
    ids.update(_task_id(raw) for raw in redis.hvals(unacked_key))
    ids.discard(None)
    return ids


class Sweeper:
    """Finds journaled batches whose message is gone and publishes them again."""

    def __init__(self, redis: Redis, republish, grace: float, queues: list[str],
                 unacked_key: str = "unacked"):
        self.redis, self.republish, self.grace = redis, republish, grace
        self.queues, self.unacked_key = queues, unacked_key
        self.suspects: set[str] = set()

    def sweep(self, now: float | None = None, interval: float = 5) -> int:
        """One pass (at most one process at a time); returns how many batches it re-published."""
        now = time.time() if now is None else now
        if not self.redis.set(SWEEP_LOCK, "1", nx=True, ex=max(1, int(interval))):
            return 0
        try:
            stale = [b.decode() for b in
                     self.redis.zrangebyscore(DUE, "-inf", now - self.grace, start=0, num=1000)]
            if not stale:
                self.suspects.clear()
                return 0
            present = in_flight(self.redis, self.queues, self.unacked_key)
            if present is None:
                return 0
            missing = {batch for batch in stale if batch not in present}
            # Seen missing twice: a message being handed to a worker is briefly in neither place.
            lost = missing & self.suspects
            self.suspects = missing - lost
            return sum(self._resend(batch, now) for batch in sorted(lost))
        finally:
            self.redis.delete(SWEEP_LOCK)

    def _resend(self, batch_id: str, now: float) -> int:
        entry = read(self.redis, batch_id)
        if entry is None:  # committed meanwhile (or forgotten halfway)
            self.redis.zrem(DUE, batch_id)
            return 0
        self.republish(entry["p"], batch_id, entry.get("r") or [])
        self.redis.zadd(DUE, {batch_id: now})
        self.redis.hincrby(metrics.KEY, RESENT, 1)
        log.warning("batch %s of project %d had no message left; published again",
                    batch_id, entry["p"])
        return 1
