"""Operational metrics, kept in Redis so every web and worker process adds to the same numbers,
and rendered in the Prometheus text format at /metrics."""

from __future__ import annotations

import time

from redis import Redis

from webapp.ingest import journal

KEY = "pulseboard:metrics"  # hash of counters and last values
REASONS = ("validation", "malformed_json", "unauthorized", "too_large", "content_type",
           "rate_limited", "queue_unavailable", "signature")


def accepted(pipe, events: int) -> None:
    """Count a queued batch of events (on the pipeline that queues it, which the caller
    executes)."""
    pipe.hincrby(KEY, "accepted", events)
    pipe.hincrby(KEY, "messages", 1)


PROTOCOLS = ("segment", "posthog")


def accepted_via(redis: Redis, protocol: str, events: int) -> None:
    """Events accepted through a protocol adapter (also counted in `accepted`)."""
    _safe(lambda: redis.hincrby(KEY, f"accepted:{protocol}", events))


def rejected(redis: Redis, reason: str, events: int = 1) -> None:
    _safe(lambda: redis.hincrby(KEY, f"rejected:{reason}", events))


def stored(redis: Redis, events: int, lag_seconds: float) -> None:
    """Count stored events (`redis` may be a pipeline, which the caller executes)."""
    redis.hincrby(KEY, "stored", events)
    redis.hset(KEY, mapping={"lag": f"{lag_seconds:.4f}", "lag_at": f"{time.time():.0f}"})


def redelivered(redis: Redis) -> None:
    """A worker took a task message the broker had delivered before."""
    _safe(lambda: redis.hincrby(KEY, "redelivered", 1))


def _safe(call) -> None:
    try:
        call()
    except Exception:  # metrics never fail a request
        pass


def render(redis: Redis, dead_letters: int, sse_clients: int,
           partitions: tuple[int, int] = (0, 0)) -> str:
    values = {k.decode(): v.decode() for k, v in redis.hgetall(KEY).items()}
    live = {k.decode(): v.decode() for k, v in redis.hgetall("pulseboard:live:stats").items()}
    lines = [
        "# HELP pulseboard_events_accepted_total Events answered 202 (queued).",
        "# TYPE pulseboard_events_accepted_total counter",
        f"pulseboard_events_accepted_total {values.get('accepted', 0)}",
        "# HELP pulseboard_ingest_messages_total Queue messages written by the web tier (each "
        "carries the events of a group of requests).",
        "# TYPE pulseboard_ingest_messages_total counter",
        f"pulseboard_ingest_messages_total {values.get('messages', 0)}",
        "# HELP pulseboard_protocol_events_accepted_total Of those, events sent through the "
        "Segment or PostHog endpoints.",
        "# TYPE pulseboard_protocol_events_accepted_total counter",
        *(f'pulseboard_protocol_events_accepted_total{{protocol="{p}"}} '
          f'{values.get(f"accepted:{p}", 0)}' for p in PROTOCOLS),
        "# HELP pulseboard_events_rejected_total Requests or events refused, by reason.",
        "# TYPE pulseboard_events_rejected_total counter",
        *(f'pulseboard_events_rejected_total{{reason="{r}"}} {values.get(f"rejected:{r}", 0)}'
          for r in REASONS),
        "# HELP pulseboard_events_stored_total Events inserted (duplicates excluded).",
        "# TYPE pulseboard_events_stored_total counter",
        f"pulseboard_events_stored_total {values.get('stored', 0)}",
        "# HELP pulseboard_queue_depth Messages waiting in the broker.",
        "# TYPE pulseboard_queue_depth gauge",
        f"pulseboard_queue_depth {redis.llen('celery')}",
        "# HELP pulseboard_journal_pending Batches answered 202 and not yet committed.",
        "# TYPE pulseboard_journal_pending gauge",
        f"pulseboard_journal_pending {journal.pending(redis)}",
        "# HELP pulseboard_store_lag_seconds Age of the oldest batch answered 202 and not yet "
        "stored (0 when none waits).",
        "# TYPE pulseboard_store_lag_seconds gauge",
        f"pulseboard_store_lag_seconds {journal.oldest_age(redis):.3f}",
        "# HELP pulseboard_journal_resent_total Batches whose broker message was lost, "
        "published again by the sweeper.",
        "# TYPE pulseboard_journal_resent_total counter",
        f"pulseboard_journal_resent_total {values.get('journal_resent', 0)}",
        "# HELP pulseboard_journal_rewoken_total Projects woken again by the sweeper because "
        "their batches waited past a wake-up's lifetime with none on its way (a worker died "
        "holding it, or the queue is behind).",
        "# TYPE pulseboard_journal_rewoken_total counter",
        f"pulseboard_journal_rewoken_total {values.get('journal_rewoken', 0)}",
        "# HELP pulseboard_tasks_redelivered_total Task messages taken again after a worker "
        "died or a visibility timeout passed.",
        "# TYPE pulseboard_tasks_redelivered_total counter",
        f"pulseboard_tasks_redelivered_total {values.get('redelivered', 0)}",
        "# HELP pulseboard_ingest_to_commit_lag_seconds Oldest event of the last batch: "
        "received to committed.",
        "# TYPE pulseboard_ingest_to_commit_lag_seconds gauge",
        f"pulseboard_ingest_to_commit_lag_seconds {values.get('lag', 0)}",
        "# HELP pulseboard_push_latency_seconds Last push: first change to fragments published.",
        "# TYPE pulseboard_push_latency_seconds gauge",
        f"pulseboard_push_latency_seconds {live.get('last_push_latency', 0)}",
        "# HELP pulseboard_pushes_total Live pushes published.",
        "# TYPE pulseboard_pushes_total counter",
        f"pulseboard_pushes_total {live.get('pushes', 0)}",
        "# HELP pulseboard_sse_clients Open dashboard streams across web processes.",
        "# TYPE pulseboard_sse_clients gauge",
        f"pulseboard_sse_clients {sse_clients}",
        "# HELP pulseboard_dead_letters Batches waiting for `flask deadletter replay`.",
        "# TYPE pulseboard_dead_letters gauge",
        f"pulseboard_dead_letters {dead_letters}",
        "# HELP pulseboard_event_partitions Partitions of the events table (days and default).",
        "# TYPE pulseboard_event_partitions gauge",
        f"pulseboard_event_partitions {partitions[0]}",
        "# HELP pulseboard_event_partition_bytes Size of the events table's partitions, "
        "with indexes.",
        "# TYPE pulseboard_event_partition_bytes gauge",
        f"pulseboard_event_partition_bytes {partitions[1]}",
    ]
    return "\n".join(lines) + "\n"
