"""The ingest journal: every batch answered 202 is kept in Redis until a worker has committed it.

Celery's Redis transport takes a message off the queue with BRPOP and only afterwards records
it as unacknowledged. A worker killed between the two loses the message: it is in neither the
queue nor the unacknowledged set, so the visibility timeout never brings it back. The journal
closes that gap, and lets one message stand for many batches:

- the web process writes the batch, its place in the project's pending batches and, unless one
  was sent within WAKE_TTL_MS, a wake-up message for the project to the queue, in one Redis
  script (atomic like MULTI), and answers 202 only after it;
- a worker woken for a project takes the pending batches (as many as one insert should hold)
  in one script that also records them as its claim and clears the wake-up flag (a batch
  written after it sends a new wake-up), commits them in one transaction, and only then
  forgets them; a redelivery or retry of the same task finds its claim again;
- a sweeper in every worker that stores events wakes a project whose batches have waited
  longer than a wake-up lives with none sent since; and it looks at batches older than a grace
  period: one that no message in the queue or unacknowledged set can reach any more (seen so
  twice) goes back to its project's pending batches, with a new wake-up.

The wake-up flag lives WAKE_TTL_MS: a worker that dies holding the wake-up (taken off the queue,
not yet taken the batches) leaves a flag that lapses within a second, so the project's next
batch, or else the next sweep, sends another. A wake-up still queued behind a backlog when its
flag lapses gets a duplicate, at most one a project per lifetime; the duplicate takes the
batches pending by then, or finds none and costs a look.

So a lone sender's requests each get a message only while the workers keep up; once they fall
behind, the batches waiting meanwhile share the next. A batch taken twice inserts nothing
twice: events are unique per project and event id, and rollups count only the rows inserted.
"""

from __future__ import annotations

import logging
import os
import time

import orjson
from redis import Redis

from webapp import counters
from webapp.ingest import scripts

log = logging.getLogger(__name__)

BATCHES = "pulseboard:journal:batches"  # batch id -> {"p": project, "e": events, "r": request ids}
DUE = "pulseboard:journal:due"  # batch ids scored by the time they were (re)published
OWNERS = "pulseboard:journal:owners"  # batch id -> "p:<project>" pending, "t:<task id>" claimed
SWEEP_LOCK = "pulseboard:journal:sweeping"
RESENT = "journal_resent"  # counter in the metrics hash
REWOKEN = "journal_rewoken"  # counter: projects woken again once their wake-up flag lapsed
QUEUE_SCAN_LIMIT = 200_000  # a longer queue is a backlog: wait for it rather than read it all
TAKE_BATCHES = 64  # batches one task takes at most
TAKE_BYTES = 2 * 1024 * 1024  # and at most about this much journaled JSON (at least one batch)
WAKE_TTL_MS = 1000  # a wake-up flag's lifetime: a project waits at most about this for another


def pending_key(project_id: int) -> str:
    return f"pulseboard:journal:pending:{project_id}"  # batch ids by time, not yet claimed


def wake_key(project_id: int) -> str:
    return f"pulseboard:journal:wake:{project_id}"  # set for WAKE_TTL_MS after a wake-up is sent


def claim_key(task_id: str) -> str:
    return f"pulseboard:journal:claim:{task_id}"  # the batch ids a task is storing


def new_batch_id() -> str:
    return os.urandom(16).hex()


def write(redis: Redis, batch_id: str, project_id: int, events: list[dict],
          request_ids: list, message: tuple[str, bytes] | None = None) -> bool:
    """Keep a batch until a worker commits it and, given `message` (queue, bytes), queue that
    wake-up for the project unless one is waiting already, counting the events; all at once
    (raises the Redis error when Redis cannot: then none of it happened). True when the
    message was queued."""
    entry = orjson.dumps({"p": project_id, "e": events, "r": request_ids})
    queue, raw = message or ("", b"")
    return bool(scripts.run(
        redis, scripts.WRITE,
        [BATCHES, DUE, pending_key(project_id), OWNERS, wake_key(project_id), counters.KEY, queue],
        [batch_id, entry, time.time(), project_id, raw, len(events), WAKE_TTL_MS]))


def take(redis: Redis, project_id: int, task_id: str, wake: tuple[str, bytes]) -> dict:
    """The batches task `task_id` is to store for the project: its earlier claim if it has one
    (a redelivery or a retry), else the oldest pending ones, which become its claim. Queues
    `wake` (queue, message) when batches remain pending. Returns {batch id: entry}."""
    queue, raw = wake
    reply = scripts.run(redis, scripts.TAKE,
                        [claim_key(task_id), pending_key(project_id), wake_key(project_id),
                         BATCHES, OWNERS, queue],
                        [TAKE_BATCHES, TAKE_BYTES, raw, task_id, WAKE_TTL_MS])
    return {reply[i].decode(): orjson.loads(reply[i + 1])
            for i in range(0, len(reply), 2) if reply[i + 1] is not None}


def read(redis: Redis, batch_id: str) -> dict | None:
    """The batch, or None once it has been committed (a later delivery of the same message)."""
    data = redis.hget(BATCHES, batch_id)
    return None if data is None else orjson.loads(data)


def forget(redis: Redis, batch_id: str, *more: str, task_id: str | None = None) -> None:
    """Drop committed batches and the claim of the task that stored them (`redis` may be a
    pipeline, which the caller executes)."""
    redis.hdel(BATCHES, batch_id, *more)
    redis.zrem(DUE, batch_id, *more)
    redis.hdel(OWNERS, batch_id, *more)
    if task_id is not None:
        redis.delete(claim_key(task_id))


def pending(redis: Redis) -> int:
    return redis.zcard(DUE)


def oldest_age(redis: Redis, now: float | None = None) -> float:
    """Seconds the oldest batch answered 202 has waited to be stored (since it was written, or
    since the sweeper published it again), 0 with none waiting."""
    oldest = redis.zrange(DUE, 0, 0, withscores=True)
    if not oldest:
        return 0.0
    return max(0.0, (time.time() if now is None else now) - oldest[0][1])


def _headers(raw: bytes | str) -> dict:
    try:
        message = orjson.loads(raw)
        if isinstance(message, list):  # an unacknowledged entry: [message, exchange, key]
            message = message[0]
        headers = message["headers"]
        return headers if isinstance(headers, dict) else {}
    except (orjson.JSONDecodeError, KeyError, TypeError, IndexError):
        return {}


def in_flight(redis: Redis, queues: list[str], unacked_key: str) -> tuple[set, set] | None:
    """Task ids of every message waiting in `queues` or taken but not yet acknowledged, and
    the projects that a waiting wake-up names; None when a queue is too long to read (a
    backlog, whose batches are not lost but waiting)."""
    ids: set = set()
    projects: set = set()
    for queue in queues:  # the queues first: a message moves from there to the unacked set
        if redis.llen(queue) > QUEUE_SCAN_LIMIT:
            return None
        for raw in redis.lrange(queue, 0, -1):
            headers = _headers(raw)
            ids.add(headers.get("id"))
            projects.add(headers.get("project"))
    ids.update(_headers(raw).get("id") for raw in redis.hvals(unacked_key))
    ids.discard(None)
    projects.discard(None)
    return ids, projects


def wake(redis: Redis, project_id: int, message: tuple[str, bytes]) -> None:
    """Queue a wake-up for the project's pending batches (the sweeper's, for a lost one)."""
    queue, raw = message
    pipe = redis.pipeline(transaction=True)
    pipe.set(wake_key(project_id), "1", px=WAKE_TTL_MS)
    pipe.lpush(queue, raw)
    pipe.execute()


class Sweeper:
    """Finds journaled batches no message can reach any more and wakes their project again."""

    def __init__(self, redis: Redis, republish, grace: float, queues: list[str],
                 unacked_key: str = "unacked"):
        self.redis, self.republish, self.grace = redis, republish, grace
        self.queues, self.unacked_key = queues, unacked_key
        self.suspects: set[str] = set()

    def sweep(self, now: float | None = None, interval: float = 5) -> int:
        """One pass (at most one process at a time); returns how many wake-ups it sent."""
        now = time.time() if now is None else now
        if not self.redis.set(SWEEP_LOCK, "1", nx=True, ex=max(1, int(interval))):
            return 0
        try:
            return self.wake_lapsed(now) + self._sweep_stale(now)
        finally:
            self.redis.delete(SWEEP_LOCK)

    def wake_lapsed(self, now: float) -> int:
        """Projects with batches pending longer than a wake-up flag lives and no flag now: the
        worker that held their last wake-up died before taking them (or it waits behind a
        backlog), and no batch of theirs has come since to send another. Wakes them again."""
        waiting = self.redis.zrangebyscore(DUE, "-inf", now - WAKE_TTL_MS / 1000,
                                           start=0, num=1000)
        if not waiting:
            return 0
        first: dict[int, str] = {}
        for batch, owner in zip(waiting, self.redis.hmget(OWNERS, waiting), strict=True):
            kind, _, who = (owner or b"").decode().partition(":")
            if kind == "p" and who.isdigit():
                first.setdefault(int(who), batch.decode())
        projects = sorted(first)
        if not projects:
            return 0
        woken = 0
        for project, flag in zip(projects, self.redis.mget([wake_key(p) for p in projects]),
                                 strict=True):
            if flag is None:
                self.republish(project, first[project], [])
                woken += 1
        if woken:
            self.redis.hincrby(counters.KEY, REWOKEN, woken)
            log.debug("woke %d projects whose last wake-up lapsed untaken", woken)
        return woken

    def _sweep_stale(self, now: float) -> int:
        stale = [b.decode() for b in
                 self.redis.zrangebyscore(DUE, "-inf", now - self.grace, start=0, num=1000)]
        if not stale:
            self.suspects.clear()
            return 0
        present = in_flight(self.redis, self.queues, self.unacked_key)
        if present is None:
            return 0
        missing = set(self.unreachable(stale, *present))
        # Seen missing twice: a message being handed to a worker is briefly in neither place.
        lost = missing & self.suspects
        self.suspects = missing - lost
        return self._resend(sorted(lost), now)

    def unreachable(self, stale: list[str], ids: set, projects: set):
        """Batches that no message names, whose claiming task has no message, or that wait for
        a project no queued wake-up names."""
        woken = {str(project) for project in projects}
        for batch, owner in zip(stale, self.redis.hmget(OWNERS, stale), strict=True):
            kind, _, who = (owner or b"").decode().partition(":")
            if batch in ids or (kind == "t" and who in ids) or (kind == "p" and who in woken):
                continue
            yield batch

    def _resend(self, lost: list[str], now: float) -> int:
        first: dict[int, tuple[str, list]] = {}
        for batch_id in lost:
            entry = read(self.redis, batch_id)
            if entry is None:  # committed meanwhile (or forgotten halfway)
                self.redis.zrem(DUE, batch_id)
                continue
            project = entry["p"]
            pipe = self.redis.pipeline(transaction=True)
            pipe.zadd(pending_key(project), {batch_id: now})
            pipe.hset(OWNERS, batch_id, f"p:{project}")
            pipe.zadd(DUE, {batch_id: now})
            pipe.execute()
            first.setdefault(project, (batch_id, entry.get("r") or []))
        for project, (batch_id, request_ids) in sorted(first.items()):
            self.republish(project, batch_id, request_ids)
            self.redis.hincrby(counters.KEY, RESENT, 1)
            log.warning("batches of project %d (%s first) had no message left; woken again",
                        project, batch_id)
        return len(first)
