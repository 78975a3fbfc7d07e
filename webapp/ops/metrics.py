"""/metrics: the counters every process keeps in Redis (webapp/counters.py), the queues, the
journal and the store, in the Prometheus text format written by prometheus-client. Under
gunicorn, metrics a process keeps for itself are merged across its workers by the client's
multiprocess collector (PROMETHEUS_MULTIPROC_DIR, set up in webapp/gunicorn_conf.py)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from redis import Redis

from webapp import config, counters
from webapp.ingest import journal
from webapp.ingest.queue import ALERTS_QUEUE, LIVE_QUEUE, REPORTS_QUEUE, STORE_QUEUE

QUEUES = (STORE_QUEUE, LIVE_QUEUE, REPORTS_QUEUE, ALERTS_QUEUE)
LIVE_STATS = "pulseboard:live:stats"


def _family(kind, name: str, doc: str, value=None, label: str | None = None, values=()):
    family = kind(name, doc, labels=[label] if label else None)
    if label:
        for key, number in values:
            family.add_metric([key], float(number))
    else:
        family.add_metric([], float(value or 0))
    return family


def _counter(*args, **kwargs):
    return _family(CounterMetricFamily, *args, **kwargs)


def _gauge(*args, **kwargs):
    return _family(GaugeMetricFamily, *args, **kwargs)


class Install:
    """The install's numbers, read from Redis when /metrics is scraped."""

    def __init__(self, redis: Redis, dead_letters: int, sse_clients: int,
                 partitions: tuple[int, int]):
        self.redis, self.dead_letters, self.sse_clients = redis, dead_letters, sse_clients
        self.partitions = partitions

    def collect(self):
        redis = self.redis
        values = {k.decode(): v.decode() for k, v in redis.hgetall(counters.KEY).items()}
        live = {k.decode(): v.decode() for k, v in redis.hgetall(LIVE_STATS).items()}
        pipe = redis.pipeline(transaction=False)
        for queue in QUEUES:
            pipe.llen(queue)
        depths = pipe.execute()
        yield _counter("pulseboard_events_accepted_total", "Events answered 202 (queued).",
                       values.get("accepted"))
        yield _counter("pulseboard_ingest_messages_total", "Queue messages written by the web "
                       "tier (each carries the events of a group of requests).",
                       values.get("messages"))
        yield _counter("pulseboard_protocol_events_accepted_total", "Of those, events sent "
                       "through the Segment or PostHog endpoints.", label="protocol",
                       values=[(p, values.get(f"accepted:{p}", 0)) for p in counters.PROTOCOLS])
        yield _counter("pulseboard_events_rejected_total", "Requests or events refused, by "
                       "reason.", label="reason",
                       values=[(r, values.get(f"rejected:{r}", 0)) for r in counters.REASONS])
        yield _counter("pulseboard_events_stored_total", "Events inserted (duplicates "
                       "excluded).", values.get("stored"))
        yield _gauge("pulseboard_queue_depth", "Messages waiting in the broker, by queue.",
                     label="queue", values=zip(QUEUES, depths, strict=True))
        yield _gauge("pulseboard_journal_pending", "Batches answered 202 and not yet "
                     "committed.", journal.pending(redis))
        yield _gauge("pulseboard_store_lag_seconds", "Age of the oldest batch answered 202 and "
                     "not yet stored (0 when none waits).", round(journal.oldest_age(redis), 3))
        yield _counter("pulseboard_journal_resent_total", "Batches whose broker message was "
                       "lost, published again by the sweeper.", values.get(journal.RESENT))
        yield _counter("pulseboard_journal_rewoken_total", "Projects woken again by the "
                       "sweeper because their batches waited past a wake-up's lifetime with "
                       "none on its way (a worker died holding it, or the queue is behind).",
                       values.get(journal.REWOKEN))
        yield _counter("pulseboard_tasks_redelivered_total", "Task messages taken again after "
                       "a worker died or a visibility timeout passed.", values.get("redelivered"))
        yield _gauge("pulseboard_ingest_to_commit_lag_seconds", "Oldest event of the last "
                     "batch: received to committed.", values.get("lag"))
        yield _gauge("pulseboard_push_latency_seconds", "Last push: first change to fragments "
                     "published.", live.get("last_push_latency"))
        yield _counter("pulseboard_pushes_total", "Live pushes published.", live.get("pushes"))
        yield _gauge("pulseboard_sse_clients", "Open dashboard streams across web processes.",
                     self.sse_clients)
        yield _counter("pulseboard_alert_trend_failures_total", "Saved trends an alert check "
                       "could not compute for their rules, by reason (too_slow: past "
                       "ALERTS_TREND_TIME_LIMIT_SECONDS; invalid: the saved query no longer "
                       "runs; error: see the jobs worker's log).", label="reason",
                       values=[(r, values.get(f"alert_trend_failed:{r}", 0))
                               for r in counters.TREND_FAILURES])
        yield _gauge("pulseboard_dead_letters", "Batches waiting for `flask deadletter "
                     "replay`.", self.dead_letters)
        yield _gauge("pulseboard_event_partitions", "Partitions of the events table (days and "
                     "default).", self.partitions[0])
        yield _gauge("pulseboard_event_partition_bytes", "Size of the events table's "
                     "partitions, with indexes.", self.partitions[1])


def render(redis: Redis, dead_letters: int, sse_clients: int,
           partitions: tuple[int, int] = (0, 0)) -> str:
    registry = CollectorRegistry()
    if config.value("PROMETHEUS_MULTIPROC_DIR"):  # gunicorn's processes' own metrics
        MultiProcessCollector(registry)
    registry.register(Install(redis, dead_letters, sse_clients, partitions))
    return generate_latest(registry).decode()
